import type { BundleRevision } from "../revision";
import * as z from "../zod";
import { REJECTION_CODES } from "./rejection";

/**
 * Why an upload to the releases bucket started no run: the bundle's own faults (see
 * rejection.ts), plus what only the upload's place and history can tell.
 */
export const UPLOAD_REJECTION_CODES = [
  ...REJECTION_CODES,
  /** The key is not `<app>/<version>.zip` or `<app>/<version>.tar.gz`. */
  "INVALID_KEY",
  /** No app of that name is registered. */
  "UNKNOWN_APP",
  /** The version was released already, with other bytes. */
  "VERSION_EXISTS",
] as const;
export type UploadRejectionCode = (typeof UPLOAD_REJECTION_CODES)[number];

/** The S3 object an upload created, as its notification names it. */
export const StoredObjectSchema = z.object({
  bucket: z.string().check(z.minLength(3)),
  key: z.string().check(z.minLength(1)),
  /** Absent when the bucket is not versioned. */
  versionId: z.optional(z.string().check(z.minLength(1))),
  etag: z.string().check(z.minLength(1)),
});
export type StoredObject = z.infer<typeof StoredObjectSchema>;

/**
 * The one accepted bundle of an app's version: the bytes (sha256) it was released with and the
 * run they started. Written once; a version is never released twice.
 */
export const BundleReleaseSchema = z.extend(StoredObjectSchema, {
  app: z.string(),
  version: z.string(),
  size: z.number().check(z.int(), z.nonnegative()),
  sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  runId: z.string(),
  /** Who uploaded it, as S3 tells (the principal id), when it does. */
  by: z.optional(z.string()),
  recordedAt: z.string(),
});
export type BundleRelease = z.infer<typeof BundleReleaseSchema>;

/** One refused upload of an app's version, kept so its uploader can learn why. */
export const BundleRejectionSchema = z.extend(StoredObjectSchema, {
  app: z.string(),
  version: z.string(),
  code: z.enum(UPLOAD_REJECTION_CODES),
  reason: z.string(),
  at: z.string(),
});
export type BundleRejection = z.infer<typeof BundleRejectionSchema>;

/**
 * Whether an upload is the object a release was recorded from: the same version id, or the same
 * ETag when the bucket keeps no versions.
 */
export function isSameObject(
  release: StoredObject,
  upload: Pick<StoredObject, "versionId"> & { etag?: string | undefined },
): boolean {
  if (release.versionId !== undefined || upload.versionId !== undefined) {
    return release.versionId === upload.versionId;
  }
  return upload.etag !== undefined && release.etag === upload.etag;
}

/** Why other bytes (`sha256`) cannot be released as a version already released. */
export function versionExistsReason(release: BundleRelease, sha256: string): string {
  return `version ${release.version} of app ${release.app} was already released with sha256 ${release.sha256} (run ${release.runId}); this upload's sha256 is ${sha256}: release it as a new version`;
}

/** The revision a release deploys: exactly the object, and bytes, it was recorded from. */
export function releaseRevision(release: BundleRelease): BundleRevision {
  return {
    type: "bundle",
    bucket: release.bucket,
    key: release.key,
    ...(release.versionId === undefined ? {} : { versionId: release.versionId }),
    etag: release.etag,
    size: release.size,
    sha256: release.sha256,
  };
}
