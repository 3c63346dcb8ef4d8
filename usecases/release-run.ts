import type { App } from "../domain/app";
import { parseReleaseKey } from "../domain/bundles/release-key";
import { releaseRevision } from "../domain/bundles/release-record";
import { ConflictError, NotFoundError } from "../domain/errors";
import { type Plan, planRun, type RunPolicy, stagesPassedBy } from "../domain/plan";
import type { BundleLedger, ReleaseObjects } from "../domain/ports";
import type { BundleRevision } from "../domain/revision";
import type { Run, RunKind, RunTrigger } from "../domain/run";
import { parseRequest } from "../domain/validation";
import * as z from "../domain/zod";
import { requireApp } from "./require-app";
import { resolveRevision } from "./resolve-revision";
import { recordRun, type StartRunPorts } from "./start-run";

const ReasonSchema = z.optional(z.string().check(z.maxLength(500)));

/** `POST /apps/{app}/releases/{version}/runs`: a run of the release through the whole pipeline. */
export const ReleaseRequestSchema = z.strictObject({ reason: ReasonSchema });

/** `POST /apps/{app}/releases/{version}/rollbacks`: the release, through production only. */
export const RollbackRequestSchema = z.strictObject({
  /** Bake each wave as the definition says; a rollback skips bakes unless asked. */
  bake: z._default(z.boolean(), false),
  reason: ReasonSchema,
});

export type ReleasePorts = StartRunPorts & { bundles: BundleLedger; releases: ReleaseObjects };

/** What a group runs now, as far as Sluice recorded it (the last revision that succeeded there). */
export interface GroupNow {
  deploymentGroup: string;
  /** The version, when the revision is a release of the app; else its key. */
  version?: string;
  revision: BundleRevision;
}

/** What a release or rollback would do, answered by a dry run; nothing is recorded. */
export interface RunPreview {
  dryRun: true;
  app: string;
  kind: RunKind;
  version: string;
  revision: BundleRevision;
  /** The run's plan, as it would be recorded: its steps in order. */
  plan: Plan;
  /** Per deploy step (by its id): what its group runs now, or null when Sluice knows nothing. */
  current: Record<string, GroupNow | null>;
  /** Stages of the app's pipeline the run passes by, and why. */
  skipped: { stage: string; why: string }[];
}

export interface ReleaseOptions {
  /** Who asked: the request's signer (the IAM principal; locally the CLI user). */
  by: string;
  body: unknown;
  /** Answer the plan only, recording nothing. */
  dryRun: boolean;
}

/**
 * A normal run of a release the app already has (the bundle its upload recorded, pinned as
 * released: version id or ETag, size, sha256), through the whole pipeline.
 */
export async function releaseVersion(
  ports: ReleasePorts,
  appName: string,
  version: string,
  options: ReleaseOptions,
): Promise<Run | RunPreview> {
  const request = parseRequest(ReleaseRequestSchema, "release request", options.body ?? {});
  return start(ports, appName, version, { kind: "release" }, options, request.reason);
}

/**
 * A rollback to a named release: the release's bundle through the production waves only, in
 * order, with their deployment configs and alarms, baked only when asked (`bake`). Recorded as
 * a run of kind `rollback`; a wave failing in it returns every wave it touched to what that wave
 * ran before, as any run's rollback does.
 */
export async function rollBackTo(
  ports: ReleasePorts,
  appName: string,
  version: string,
  options: ReleaseOptions,
): Promise<Run | RunPreview> {
  const request = parseRequest(RollbackRequestSchema, "rollback request", options.body ?? {});
  return start(
    ports,
    appName,
    version,
    { kind: "rollback", bake: request.bake },
    options,
    request.reason,
  );
}

async function start(
  ports: ReleasePorts,
  appName: string,
  version: string,
  policy: RunPolicy,
  options: ReleaseOptions,
  reason: string | undefined,
): Promise<Run | RunPreview> {
  const app = await requireApp(ports.apps, appName);
  const revision = await releasedRevision(ports.bundles, app.name, version);
  // Refused now rather than at the run's source stage: a rollback is often urgent.
  await resolveRevision(ports, revision);
  if (options.dryRun) return preview(ports, app, version, revision, policy);
  const trigger: RunTrigger = {
    type: "api",
    by: options.by,
    actor: options.by,
    ...(reason ? { reason } : {}),
  };
  return recordRun(ports, app, revision, trigger, { policy });
}

/**
 * The bundle a version of the app was released as. A version never uploaded is a 404; one whose
 * every upload was refused is a 409 that says why the latest was.
 */
async function releasedRevision(
  bundles: BundleLedger,
  app: string,
  version: string,
): Promise<BundleRevision> {
  const { release, rejections } = await bundles.history(app, version);
  if (release) return releaseRevision(release);
  const [latest] = rejections;
  if (latest) {
    throw new ConflictError(
      `version ${version} of app ${app} was never released: its upload ${latest.key} was refused (${latest.code}: ${latest.reason})`,
    );
  }
  throw new NotFoundError(
    `version ${version} of app ${app} was never released: push it first (sluice push)`,
  );
}

async function preview(
  ports: ReleasePorts,
  app: App,
  version: string,
  revision: BundleRevision,
  policy: RunPolicy,
): Promise<RunPreview> {
  const plan = planRun(app, revision, policy);
  const current: Record<string, GroupNow | null> = {};
  for (const step of plan.steps) {
    if (step.kind !== "deploy") continue;
    const now = await ports.runs.lastGoodRevision(app.name, step.application, step.deploymentGroup);
    const released = now && parseReleaseKey(now.key);
    current[step.id] = now
      ? {
          deploymentGroup: step.deploymentGroup,
          ...(released && released.app === app.name ? { version: released.version } : {}),
          revision: now,
        }
      : null;
  }
  return {
    dryRun: true,
    app: app.name,
    kind: policy.kind,
    version,
    revision,
    plan,
    current,
    skipped: stagesPassedBy(app, policy),
  };
}
