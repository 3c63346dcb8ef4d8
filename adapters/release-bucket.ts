import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { type Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  NotFound,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { BundleRejectedError } from "../domain/bundles/rejection";
import type {
  BundleDownloads,
  DownloadedBundle,
  ObjectHead,
  ReleaseObjects,
} from "../domain/ports";
import { s3 } from "./clients/s3";
import { stackConfig } from "./config";

/** The S3 bucket release bundles are uploaded to. */
export class ReleaseBucket implements ReleaseObjects, BundleDownloads {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  async head(key: string, versionId?: string): Promise<ObjectHead | undefined> {
    try {
      const out = await this.s3.send(
        new HeadObjectCommand({
          Bucket: this.bucket,
          Key: key,
          ...(versionId ? { VersionId: versionId } : {}),
        }),
      );
      return {
        etag: unquote(out.ETag),
        size: out.ContentLength ?? 0,
        ...(out.VersionId && out.VersionId !== "null" ? { versionId: out.VersionId } : {}),
      };
    } catch (err) {
      if (err instanceof NotFound || (err as { name?: string }).name === "NotFound")
        return undefined;
      throw err;
    }
  }

  async download(
    object: { key: string; versionId?: string; etag?: string },
    filePath: string,
    maxBytes: number,
  ): Promise<DownloadedBundle | undefined> {
    let out: GetObjectCommandOutput;
    try {
      out = await this.getObject(object);
    } catch (err) {
      // Deleted, or overwritten since the upload (If-Match failed): a later event covers it.
      if ([404, 412].includes(statusOf(err))) return undefined;
      throw err;
    }
    const body = out.Body as Readable;
    const etag = unquote(out.ETag);
    const size = out.ContentLength ?? 0;
    // Stores that ignore If-Match (s3rver) are caught here instead.
    if (object.etag !== undefined && etag !== object.etag) {
      body.destroy();
      return undefined;
    }
    if (size > maxBytes) {
      body.destroy();
      throw tooLarge(size, maxBytes);
    }
    const hash = createHash("sha256");
    let read = 0;
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        read += chunk.length;
        if (read > maxBytes) return done(tooLarge(read, maxBytes));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    await pipeline(body, measure, createWriteStream(filePath, { flags: "wx" }));
    return {
      etag,
      size: read,
      sha256: hash.digest("hex"),
      ...(out.VersionId && out.VersionId !== "null" ? { versionId: out.VersionId } : {}),
      ...(out.Metadata ? { metadata: out.Metadata } : {}),
    };
  }

  /**
   * Uploads a bundle file, with the user metadata given. S3 checks the bytes it received
   * against the SHA-256 given, so a damaged upload fails here instead of being released.
   */
  async upload(
    key: string,
    filePath: string,
    file: { size: number; sha256: string; metadata?: Record<string, string> },
  ): Promise<{ etag: string; versionId?: string }> {
    const out = await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: createReadStream(filePath),
        ContentLength: file.size,
        ChecksumSHA256: Buffer.from(file.sha256, "hex").toString("base64"),
        ...(file.metadata ? { Metadata: file.metadata } : {}),
      }),
    );
    return {
      etag: unquote(out.ETag),
      ...(out.VersionId && out.VersionId !== "null" ? { versionId: out.VersionId } : {}),
    };
  }

  private getObject(object: {
    key: string;
    versionId?: string;
    etag?: string;
  }): Promise<GetObjectCommandOutput> {
    return this.s3.send(
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: object.key,
        ...(object.versionId
          ? { VersionId: object.versionId }
          : object.etag
            ? { IfMatch: `"${object.etag}"` }
            : {}),
      }),
    );
  }
}

function unquote(etag: string | undefined): string {
  return (etag ?? "").replaceAll('"', "");
}

function statusOf(err: unknown): number {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
}

function tooLarge(size: number, maxBytes: number): BundleRejectedError {
  return new BundleRejectedError(
    "TOO_LARGE",
    `bundle is ${size} bytes, over the limit of ${maxBytes} bytes (maxBundleBytes)`,
  );
}

/** The stack's releases bucket, over the container's client. */
export function releaseBucket(): ReleaseBucket {
  return new ReleaseBucket(s3(), stackConfig().releasesBucket);
}
