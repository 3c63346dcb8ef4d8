import { SSMClient } from "@aws-sdk/client-ssm";
import { KEEP_ALIVE } from "./http";

let client: SSMClient | undefined;

/** The SSM client, built on first use and kept for the container's life. */
export function ssm(): SSMClient {
  client ??= new SSMClient(KEEP_ALIVE);
  return client;
}
