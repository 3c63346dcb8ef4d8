import { SFNClient } from "@aws-sdk/client-sfn";

let client: SFNClient | undefined;

/** The Step Functions client, built on first use and kept for the container's life. */
export function sfn(): SFNClient {
  client ??= new SFNClient({});
  return client;
}
