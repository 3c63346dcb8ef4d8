import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { inspectBundle } from "../../domain/bundles/inspect";
import type { FetchedRevision } from "./deployment-runner";
import type { S3Revision } from "./store";

/**
 * Fetches a deployment's revision from the local S3, once, and checks it as an upload is
 * checked, so every host unpacks the same checked bytes.
 */
export class RevisionSource {
  private s3?: S3Client;

  constructor(
    private readonly region: string,
    private readonly credentials: { accessKeyId: string; secretAccessKey: string },
  ) {}

  async fetch({ s3Location: location }: S3Revision, dir: string): Promise<FetchedRevision> {
    if (location.bundleType === "tar") {
      throw new Error("bundleType tar is not supported locally: pack the revision as zip or tgz");
    }
    const format = location.bundleType === "zip" ? "zip" : "tar.gz";
    await mkdir(dir, { recursive: true });
    const archive = path.join(dir, `bundle.${format}`);
    // Made on first use: the stack points AWS_ENDPOINT_URL_S3 at its S3 once every service is up.
    this.s3 ??= new S3Client({
      region: this.region,
      credentials: this.credentials,
      forcePathStyle: true,
      ...(process.env.AWS_ENDPOINT_URL_S3 ? { endpoint: process.env.AWS_ENDPOINT_URL_S3 } : {}),
    });
    const object = await this.s3.send(
      new GetObjectCommand({
        Bucket: location.bucket,
        Key: location.key,
        ...(location.version ? { VersionId: location.version } : {}),
      }),
    );
    const eTag = object.ETag?.replaceAll('"', "");
    if (location.eTag && eTag && location.eTag.replaceAll('"', "") !== eTag) {
      throw new Error(
        `s3://${location.bucket}/${location.key} has ETag ${eTag}, not ${location.eTag}`,
      );
    }
    await pipeline(object.Body as Readable, createWriteStream(archive));
    const { appspec } = await inspectBundle(archive, format);
    return { archive, format, appspec };
  }

  close(): void {
    this.s3?.destroy();
  }
}
