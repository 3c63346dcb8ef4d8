import { tmpdir } from "node:os";
import middy from "@middy/core";
import { appStore } from "../adapters/app-store";
import { auditTrail } from "../adapters/audit-trail";
import { bundleLedger } from "../adapters/bundle-ledger";
import { eventBus } from "../adapters/event-bus";
import { intakePorts } from "../adapters/intake-ports";
import { releaseBucket } from "../adapters/release-bucket";
import { type BundleLimits, DEFAULT_BUNDLE_LIMITS } from "../domain/bundles/limits";
import * as z from "../domain/zod";
import { logger } from "../http/logger";
import { receiveBundle, type UploadedObject } from "../usecases/receive-bundle";

const S3RecordSchema = z.object({
  eventName: z.string(),
  userIdentity: z.optional(z.object({ principalId: z.string() })),
  s3: z.object({
    bucket: z.object({ name: z.string() }),
    object: z.object({
      key: z.string(),
      size: z._default(z.number().check(z.int(), z.nonnegative()), 0),
      eTag: z.optional(z.string()),
      versionId: z.optional(z.string()),
    }),
  }),
});
const S3EventSchema = z.object({ Records: z._default(z.array(S3RecordSchema), []) });

const LimitsEnvSchema = z.object({
  SLUICE_BUNDLE_MAX_BYTES: z.optional(z.coerce.number().check(z.int(), z.positive())),
});

/** The defaults, but for the bundle size an operator may set (SLUICE_BUNDLE_MAX_BYTES). */
export function bundleLimits(env: NodeJS.ProcessEnv): BundleLimits {
  const { SLUICE_BUNDLE_MAX_BYTES } = LimitsEnvSchema.parse(env);
  return SLUICE_BUNDLE_MAX_BYTES === undefined
    ? DEFAULT_BUNDLE_LIMITS
    : { ...DEFAULT_BUNDLE_LIMITS, maxBundleBytes: SLUICE_BUNDLE_MAX_BYTES };
}

/**
 * S3 notification of the releases bucket (ObjectCreated, .zip and .tar.gz): checks each
 * uploaded bundle and starts one run of it, or announces why it was refused.
 */
export const handler = middy(async (event: unknown) => {
  const { Records } = S3EventSchema.parse(event);
  const releases = releaseBucket();
  const ports = {
    ...intakePorts(),
    apps: appStore(),
    events: eventBus(),
    downloads: releases,
    ledger: bundleLedger(),
    audit: auditTrail(),
  };
  const options = { limits: bundleLimits(process.env), workDir: tmpdir() };
  const outcomes = [];
  for (const record of Records) {
    const upload = toUpload(record);
    if (!record.eventName.startsWith("ObjectCreated:") || upload.bucket !== releases.bucket) {
      logger.warn("ignored an S3 event that is not an upload to the releases bucket", {
        eventName: record.eventName,
        bucket: upload.bucket,
      });
      continue;
    }
    const outcome = await receiveBundle(ports, upload, options);
    logger.info("bundle received", { key: upload.key, versionId: upload.versionId, ...outcome });
    outcomes.push({ key: upload.key, ...outcome });
  }
  return outcomes;
});

function toUpload(record: z.infer<typeof S3RecordSchema>): UploadedObject {
  const { object, bucket } = record.s3;
  return {
    bucket: bucket.name,
    // S3 URL-encodes keys in notifications, with "+" for a space.
    key: decodeURIComponent(object.key.replace(/\+/g, " ")),
    size: object.size,
    ...(object.eTag ? { etag: object.eTag.replaceAll('"', "") } : {}),
    ...(object.versionId && object.versionId !== "null" ? { versionId: object.versionId } : {}),
    ...(record.userIdentity ? { by: record.userIdentity.principalId } : {}),
  };
}
