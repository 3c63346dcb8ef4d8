import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";

let client: CloudWatchClient | undefined;

/** The CloudWatch client, built on first use and kept for the container's life. */
export function cloudWatch(): CloudWatchClient {
  client ??= new CloudWatchClient({});
  return client;
}
