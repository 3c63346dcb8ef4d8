import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { ulid } from "ulid";
import { changeFromMetadata } from "../domain/bundles/change-metadata";
import { type BundleLimits, inspectBundle } from "../domain/bundles/inspect";
import { BundleRejectedError } from "../domain/bundles/rejection";
import { parseReleaseKey, type ReleaseKey } from "../domain/bundles/release-key";
import {
  type BundleRelease,
  isSameObject,
  releaseRevision,
  type UploadRejectionCode,
  versionExistsReason,
} from "../domain/bundles/release-record";
import { ClaimTakenError } from "../domain/intake-claims";
import type { AuditLog, BundleDownloads, BundleLedger, EventPublisher } from "../domain/ports";
import { newRunId, type RunTrigger } from "../domain/run";
import { recordRun, type StartRunPorts } from "./start-run";

export interface ReceiveBundlePorts extends StartRunPorts {
  /** Where a refused upload is announced; it belongs to no run, so it has no outbox. */
  events: EventPublisher;
  downloads: BundleDownloads;
  ledger: BundleLedger;
  /** Where a refusal of an app's upload is kept for good, in the app's audit trail. */
  audit?: AuditLog;
}

/** An object the releases bucket announced; its key already URL-decoded. */
export interface UploadedObject {
  bucket: string;
  key: string;
  size: number;
  etag?: string;
  versionId?: string;
  /** Who uploaded it, as S3 tells. */
  by?: string;
}

export interface ReceiveOptions {
  limits: BundleLimits;
  /** Where the bundle is downloaded to be inspected (Lambda's /tmp). */
  workDir: string;
}

export type ReceiveOutcome =
  | { outcome: "started"; runId: string }
  | { outcome: "duplicate"; runId: string }
  | { outcome: "rejected"; code: UploadRejectionCode; reason: string }
  | { outcome: "gone" };

/**
 * Turns one upload to the releases bucket into at most one run. S3 may deliver its event more
 * than once, and a version may be uploaded again: a version is released once, by a conditional
 * write of its bytes' SHA-256 in the same write that records its run, so only the delivery that
 * wrote it starts a run, and no release is ever without its run. The same bytes again are a
 * duplicate; other bytes for a released version are refused. The object is only ever read.
 */
export async function receiveBundle(
  ports: ReceiveBundlePorts,
  upload: UploadedObject,
  options: ReceiveOptions,
): Promise<ReceiveOutcome> {
  const release = parseReleaseKey(upload.key);
  if (!release) {
    return reject(ports, upload, undefined, {
      code: "INVALID_KEY",
      reason: `key ${JSON.stringify(upload.key)} is not a release bundle: expected <app>/<version>.zip or <app>/<version>.tar.gz, with a lower-case app name and a version of letters, digits, ".", "_", "+" and "-"`,
    });
  }
  // The ledger is read beside the app: an unknown app's upload is refused whatever it holds.
  const [app, recorded] = await Promise.all([
    ports.apps.get(release.app),
    ports.ledger.release(release.app, release.version),
  ]);
  if (!app) {
    // Not kept in the ledger: only registered apps get a place there.
    return reject(
      ports,
      upload,
      release,
      {
        code: "UNKNOWN_APP",
        reason: `app "${release.app}" is not registered; register it (PUT /apps/${release.app}) before uploading its bundles`,
      },
      false,
    );
  }
  if (recorded && isSameObject(recorded, upload)) return duplicateOf(recorded);
  const dir = await mkdtemp(join(options.workDir, "sluice-bundle-"));
  let seen = upload;
  try {
    if (upload.size > options.limits.maxBundleBytes) {
      throw new BundleRejectedError(
        "TOO_LARGE",
        `bundle is ${upload.size} bytes, over the limit of ${options.limits.maxBundleBytes} bytes (maxBundleBytes)`,
      );
    }
    const file = join(dir, `bundle.${release.format}`);
    const object = await ports.downloads.download(
      {
        key: upload.key,
        ...(upload.versionId ? { versionId: upload.versionId } : {}),
        ...(upload.etag ? { etag: upload.etag } : {}),
      },
      file,
      options.limits.maxBundleBytes,
    );
    if (!object) return { outcome: "gone" };
    seen = { ...upload, etag: object.etag, ...pick(object, "versionId") };
    if (recorded) return sameBytesOrRefuse(ports, seen, release, recorded, object.sha256);
    await inspectBundle(file, release.format, options.limits);
    const now = ports.clock.now();
    const candidate: BundleRelease = {
      app: release.app,
      version: release.version,
      bucket: upload.bucket,
      key: upload.key,
      ...pick(object, "versionId"),
      etag: object.etag,
      size: object.size,
      sha256: object.sha256,
      runId: newRunId(now),
      ...pick(upload, "by"),
      recordedAt: now.toISOString(),
    };
    try {
      await recordRun(ports, app, releaseRevision(candidate), triggerOf(candidate), {
        runId: candidate.runId,
        claims: [{ kind: "release", release: candidate }],
        change: changeFromMetadata(object.metadata),
      });
      return { outcome: "started", runId: candidate.runId };
    } catch (err) {
      if (!(err instanceof ClaimTakenError && err.taken.kind === "release")) throw err;
      return sameBytesOrRefuse(ports, seen, release, err.taken.holder, object.sha256);
    }
  } catch (err) {
    if (!(err instanceof BundleRejectedError)) throw err;
    return reject(ports, seen, release, { code: err.code, reason: err.message });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function sameBytesOrRefuse(
  ports: ReceiveBundlePorts,
  upload: UploadedObject,
  release: ReleaseKey,
  recorded: BundleRelease,
  sha256: string,
): Promise<ReceiveOutcome> {
  if (recorded.sha256 === sha256) return Promise.resolve(duplicateOf(recorded));
  return reject(ports, upload, release, {
    code: "VERSION_EXISTS",
    reason: versionExistsReason(recorded, sha256),
  });
}

/** A release already recorded, delivered again: its run was recorded with it. */
function duplicateOf(release: BundleRelease): ReceiveOutcome {
  return { outcome: "duplicate", runId: release.runId };
}

async function reject(
  ports: ReceiveBundlePorts,
  upload: UploadedObject,
  release: ReleaseKey | undefined,
  { code, reason }: { code: UploadRejectionCode; reason: string },
  keep = true,
): Promise<ReceiveOutcome> {
  const at = ports.clock.now().toISOString();
  // Kept in the version's history, where its uploader looks, when the object is known.
  if (keep && release && upload.etag) {
    await ports.ledger.recordRejection({
      app: release.app,
      version: release.version,
      bucket: upload.bucket,
      key: upload.key,
      ...pick(upload, "versionId"),
      etag: upload.etag,
      code,
      reason,
      at,
    });
  }
  const event = {
    detailType: "Bundle Rejected",
    detail: {
      bucket: upload.bucket,
      key: upload.key,
      ...pick(upload, "versionId"),
      ...(release ? { app: release.app } : {}),
      code,
      reason,
      at,
      // No run orders it: consumers order these by `at`, then by this ULID.
      eventId: ulid(Date.parse(at)),
    },
  } as const;
  // Kept before it is announced: whoever hears of it finds it in the app's trail.
  if (release) {
    await ports.audit?.recordEvent({
      app: release.app,
      type: event.detailType,
      at,
      eventId: event.detail.eventId,
      detail: event.detail,
    });
  }
  await ports.events.publish([event]);
  return { outcome: "rejected", code, reason };
}

function triggerOf(release: BundleRelease): RunTrigger {
  return { type: "upload", ...pick(release, "by"), reason: `bundle ${release.key}` };
}

/** `{ [key]: value }` when the value is there, `{}` otherwise (exactOptionalPropertyTypes). */
function pick<T extends object, K extends keyof T>(
  from: T,
  key: K,
): { [P in K]?: Exclude<T[P], undefined> } {
  const value = from[key];
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: Exclude<T[P], undefined> };
}
