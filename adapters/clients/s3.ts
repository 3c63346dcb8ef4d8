import { S3Client } from "@aws-sdk/client-s3";
import { stackConfig } from "../config";

let client: S3Client | undefined;

/** The S3 client, built on first use and kept for the container's life. */
export function s3(): S3Client {
  client ??= new S3Client({ forcePathStyle: stackConfig().s3ForcePathStyle });
  return client;
}
