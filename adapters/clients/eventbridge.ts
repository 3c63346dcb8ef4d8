import { EventBridgeClient } from "@aws-sdk/client-eventbridge";

let client: EventBridgeClient | undefined;

/** The EventBridge client, built on first use and kept for the container's life. */
export function eventBridge(): EventBridgeClient {
  client ??= new EventBridgeClient({});
  return client;
}
