import { HeadObjectCommand, NotFound, type S3Client } from "@aws-sdk/client-s3";
import type { ObjectHead, ReleaseObjects } from "../domain/ports";

/** The S3 bucket release bundles are uploaded to. */
export class ReleaseBucket implements ReleaseObjects {
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
        etag: (out.ETag ?? "").replaceAll('"', ""),
        size: out.ContentLength ?? 0,
        ...(out.VersionId && out.VersionId !== "null" ? { versionId: out.VersionId } : {}),
      };
    } catch (err) {
      if (err instanceof NotFound || (err as { name?: string }).name === "NotFound")
        return undefined;
      throw err;
    }
  }
}
