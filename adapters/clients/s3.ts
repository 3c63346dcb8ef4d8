import { S3Client } from "@aws-sdk/client-s3";
import { stackConfig } from "../config";
import { KEEP_ALIVE } from "./http";

let client: S3Client | undefined;

/** The S3 client, built on first use and kept for the container's life. */
export function s3(): S3Client {
  client ??= new S3Client({ ...KEEP_ALIVE, forcePathStyle: stackConfig().s3ForcePathStyle });
  return client;
}
