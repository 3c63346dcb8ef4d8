import type { App } from "../domain/app";
import { parseReleaseKey } from "../domain/bundles/release-key";
import { releaseRevision } from "../domain/bundles/release-record";
import { BadRequestError, ConflictError, NotFoundError } from "../domain/errors";
import type { IntakeClaim } from "../domain/intake-claims";
import { planRun, type RunPolicy } from "../domain/plan";
import type {
  AppRepository,
  BundleLedger,
  Clock,
  PipelineEngine,
  RunRepository,
} from "../domain/ports";
import { type BundleRevision, type Revision, RevisionSchema } from "../domain/revision";
import {
  newRunId,
  type Run,
  type RunChange,
  RunChangeSchema,
  type RunTrigger,
} from "../domain/run";
import { parseRequest } from "../domain/validation";
import * as z from "../domain/zod";
import { requireApp } from "./require-app";

export const CreateRunRequestSchema = z.strictObject({
  revision: RevisionSchema,
  reason: z.optional(z.string().check(z.maxLength(500))),
  requestedBy: z.optional(z.string().check(z.maxLength(200))),
  /** The commit message and author, for an approval request to show and check. */
  change: z.optional(RunChangeSchema),
});
export type CreateRunRequest = z.infer<typeof CreateRunRequestSchema>;

/** What recording a run needs: the run store, and the engine only for the run's ARN. */
export interface RecordRunPorts {
  runs: RunRepository;
  executions: Pick<PipelineEngine, "arnOf">;
  clock: Clock;
}

export interface StartRunPorts extends RecordRunPorts {
  apps: AppRepository;
}

export function parseCreateRunRequest(body: unknown): CreateRunRequest {
  return parseRequest(CreateRunRequestSchema, "run request", body);
}

/**
 * Records a run of a registered app, QUEUED, with its plan (the app's definition as it is now:
 * editing the app later never changes this run), its execution mode and its "Run Queued" event,
 * together with the intake's claims, in one write. That write is the whole of the intake's
 * work: admission (queue, slot, StartExecution) follows from the table's stream (admitRuns).
 */
export async function recordRun(
  ports: RecordRunPorts,
  app: App,
  revision: Revision,
  trigger: RunTrigger,
  options: {
    /** A caller that claims something with the run names the run itself. */
    runId?: string;
    claims?: readonly IntakeClaim[];
    /** A release by default; a rollback goes through the production waves only. */
    policy?: RunPolicy;
    /** The commit message and author, where the intake knows them. */
    change?: RunChange | undefined;
  } = {},
): Promise<Run> {
  const policy = options.policy ?? { kind: "release" };
  const plan = planRun(app, revision, policy);
  const at = ports.clock.now();
  const runId = options.runId ?? newRunId(at);
  const now = at.toISOString();
  const run: Run = {
    id: runId,
    app: app.name,
    status: "QUEUED",
    revision,
    trigger,
    kind: policy.kind,
    ...(options.change ? { change: options.change } : {}),
    createdAt: now,
    updatedAt: now,
    executionArn: ports.executions.arnOf(runId),
    plan,
    executionMode: app.pipeline.executionMode,
    cursor: -1,
    attempt: 1,
    retries: [],
  };
  await ports.runs.create(
    run,
    [
      {
        detailType: "Run Queued",
        detail: {
          runId: run.id,
          app: run.app,
          status: run.status,
          revision,
          at: now,
          attempt: 1,
          kind: policy.kind,
        },
      },
    ],
    options.claims,
  );
  return run;
}

/**
 * A run asked for through the API. A bundle must be one the app released, and the run deploys
 * it exactly as released (its version id or ETag, size and sha256): nothing is recorded for a
 * bundle that does not exist.
 */
export async function requestRun(
  ports: StartRunPorts & { bundles: BundleLedger },
  appName: string,
  request: CreateRunRequest,
  /** Who signed the request (the IAM principal; locally the CLI user). */
  actor: string,
): Promise<Run> {
  const trigger: RunTrigger = {
    type: "api",
    by: request.requestedBy ?? actor,
    actor,
    ...(request.reason ? { reason: request.reason } : {}),
  };
  const app = await requireApp(ports.apps, appName);
  const { revision } = request;
  const options = { change: request.change };
  if (revision.type === "git") return recordRun(ports, app, revision, trigger, options);
  return recordRun(ports, app, await releasedBundle(ports, app.name, revision), trigger, options);
}

async function releasedBundle(
  ports: { bundles: BundleLedger },
  app: string,
  asked: BundleRevision,
): Promise<BundleRevision> {
  const key = parseReleaseKey(asked.key);
  if (key?.app !== app) {
    throw new BadRequestError(
      `bundle key "${asked.key}" is not a release of app ${app}: name it ${app}/<version>.zip or ${app}/<version>.tar.gz`,
    );
  }
  const release = await ports.bundles.release(app, key.version);
  if (release?.key !== asked.key) {
    throw new NotFoundError(
      `version ${key.version} of app ${app} was never released as ${asked.key}: upload the bundle first`,
    );
  }
  const released = releaseRevision(release);
  const differs = (["bucket", "versionId", "etag", "sha256"] as const).filter(
    (field) => asked[field] !== undefined && asked[field] !== released[field],
  );
  if (differs.length > 0) {
    throw new ConflictError(
      `${asked.key} was released with another ${differs.join(", ")}: ask for it as released, or release a new version`,
    );
  }
  return released;
}
