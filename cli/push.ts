import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { basename } from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import { ReleaseBucket } from "../adapters/release-bucket";
import { changeMetadata } from "../domain/bundles/change-metadata";
import { type BundleFormat, parseReleaseKey, releaseKey } from "../domain/bundles/release-key";
import {
  type BundleRejection,
  type BundleRelease,
  versionExistsReason,
} from "../domain/bundles/release-record";
import { parseGitAuthor } from "../domain/git-author";
import type { ChangeFacts, RunView } from "../domain/run";
import type { ApiClient } from "./api-client";
import { CliError } from "./errors";
import { invocation } from "./invocation";
import { lastCommit } from "./last-commit";
import { LOCAL_CREDENTIALS, type Settings } from "./settings";

export interface PushOptions {
  app: string;
  version: string;
  /** The change the bundle holds; without either, the last commit of `cwd`'s work tree. */
  message?: string;
  /** `Name <email>`. */
  author?: string;
  cwd: string;
  /** How long to wait for Sluice to take the bundle in. */
  timeoutMs: number;
  pollMs?: number;
}

interface Uploaded {
  key: string;
  sha256: string;
  etag: string;
  versionId?: string;
  /** Before the upload, so that any answer recorded after it is about this upload. */
  startedAt: string;
}

/**
 * Uploads a bundle to the releases bucket as `<app>/<version>.<format>`, then waits until Sluice
 * has released it (and prints its run) or refused it (and fails with the reason).
 */
export async function push(
  file: string,
  options: PushOptions,
  settings: Settings,
  api: ApiClient,
  env: NodeJS.ProcessEnv,
  print: (text: string) => void,
): Promise<RunView> {
  const key = releaseKey({ app: options.app, version: options.version, format: formatOf(file) });
  if (!parseReleaseKey(key)) {
    throw new CliError(
      `"${options.app}" / "${options.version}" cannot name a release: apps are 2-63 lower-case letters, digits and "-"; versions are letters, digits, ".", "_", "+" and "-", starting with a letter or digit`,
    );
  }
  if (!(await api.find(`/apps/${options.app}`))) {
    throw new CliError(
      `app "${options.app}" is not registered; register it first: ${invocation(env)} apps put ${options.app} <definition-file>`,
    );
  }
  const { sha256, size } = await digest(file);
  const released = (await bundleHistory(api, options))?.release;
  // Refused before the upload: where the bucket keeps no versions (the local one), uploading
  // would replace the bytes the version was released with, and a rollback to it would fail.
  if (released && released.sha256 !== sha256) {
    throw new CliError(
      `bundle rejected (VERSION_EXISTS): ${versionExistsReason(released, sha256)}; nothing was uploaded`,
    );
  }
  const startedAt = new Date().toISOString();
  const bucket = new ReleaseBucket(s3Client(settings, env), settings.bucket);
  const metadata = changeMetadata((await changeOf(options)) ?? {});
  const stored = await bucket.upload(key, file, { size, sha256, metadata }).catch((err: Error) => {
    throw new CliError(`upload to s3://${settings.bucket}/${key} failed: ${err.message}`, {
      cause: err,
    });
  });
  print(`uploaded ${basename(file)} to s3://${settings.bucket}/${key} (sha256 ${sha256})\n`);
  return awaitOutcome({ key, sha256, startedAt, ...stored }, options, api, print);
}

async function awaitOutcome(
  uploaded: Uploaded,
  options: PushOptions,
  api: ApiClient,
  print: (text: string) => void,
): Promise<RunView> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const history = await bundleHistory(api, options);
    const refusal = history?.rejections.find((rejection) => isAbout(rejection, uploaded));
    if (refusal) throw new CliError(`bundle rejected (${refusal.code}): ${refusal.reason}`);
    const release = history?.release;
    if (release?.sha256 === uploaded.sha256) {
      const run: RunView | undefined = await api.find(`/runs/${release.runId}`);
      if (run) {
        const earlier =
          release.recordedAt < uploaded.startedAt ? " (released earlier with the same bytes)" : "";
        print(`run ${run.id} ${run.status}${earlier}\n`);
        return run;
      }
    }
    if (Date.now() > deadline) {
      throw new CliError(
        `Sluice said nothing about s3://…/${uploaded.key} within ${options.timeoutMs / 1000} s; see GET ${historyPath(options)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
  }
}

interface BundleHistory {
  release: BundleRelease | null;
  rejections: BundleRejection[];
}

function historyPath(options: Pick<PushOptions, "app" | "version">): string {
  return `/apps/${options.app}/bundles/${encodeURIComponent(options.version)}`;
}

/** The version's release, if it has one, and the uploads of it refused. */
function bundleHistory(
  api: ApiClient,
  options: Pick<PushOptions, "app" | "version">,
): Promise<BundleHistory | undefined> {
  return api.find(historyPath(options));
}

/** A refusal of this very object: its version id, or its ETag since the upload began. */
function isAbout(rejection: BundleRejection, uploaded: Uploaded): boolean {
  if (uploaded.versionId) return rejection.versionId === uploaded.versionId;
  return rejection.etag === uploaded.etag && rejection.at >= uploaded.startedAt;
}

/** What the flags say the change is, or else what git says its last commit is. */
async function changeOf(options: PushOptions): Promise<ChangeFacts | undefined> {
  if (options.message === undefined && options.author === undefined) {
    return lastCommit(options.cwd);
  }
  return {
    message: options.message,
    ...(options.author === undefined ? {} : parseGitAuthor(options.author)),
  };
}

function formatOf(file: string): BundleFormat {
  if (file.endsWith(".zip")) return "zip";
  if (file.endsWith(".tar.gz")) return "tar.gz";
  throw new CliError(`cannot tell the format of ${basename(file)}: name it .zip or .tar.gz`);
}

async function digest(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  try {
    for await (const chunk of createReadStream(file)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  return { sha256: hash.digest("hex"), size };
}

function s3Client(settings: Settings, env: NodeJS.ProcessEnv): S3Client {
  const endpoint = settings.s3Endpoint;
  return new S3Client({
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1",
    followRegionRedirects: true,
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    ...(endpoint && !env.AWS_ACCESS_KEY_ID ? { credentials: LOCAL_CREDENTIALS } : {}),
  });
}
