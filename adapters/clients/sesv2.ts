import { SESv2Client } from "@aws-sdk/client-sesv2";
import { KEEP_ALIVE } from "./http";

let client: SESv2Client | undefined;

/** The SES v2 client, built on first use and kept for the container's life. */
export function sesv2(): SESv2Client {
  client ??= new SESv2Client(KEEP_ALIVE);
  return client;
}
