import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { KEEP_ALIVE } from "./http";

let client: EventBridgeClient | undefined;

/** The EventBridge client, built on first use and kept for the container's life. */
export function eventBridge(): EventBridgeClient {
  client ??= new EventBridgeClient(KEEP_ALIVE);
  return client;
}
