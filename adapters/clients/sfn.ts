import { SFNClient } from "@aws-sdk/client-sfn";
import { KEEP_ALIVE } from "./http";

let client: SFNClient | undefined;

/** The Step Functions client, built on first use and kept for the container's life. */
export function sfn(): SFNClient {
  client ??= new SFNClient(KEEP_ALIVE);
  return client;
}
