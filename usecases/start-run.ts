import type { App } from "../domain/app";
import { parseReleaseKey } from "../domain/bundles/release-key";
import { releaseRevision } from "../domain/bundles/release-record";
import { BadRequestError, ConflictError, NotFoundError } from "../domain/errors";
import { planRun } from "../domain/plan";
import type { AppRepository, BundleLedger } from "../domain/ports";
import { type BundleRevision, type Revision, RevisionSchema } from "../domain/revision";
import { newRunId, type Run, type RunTrigger } from "../domain/run";
import { formatIssues } from "../domain/validation";
import * as z from "../domain/zod";
import { requireApp } from "./require-app";
import { admitRun, type QueuePorts } from "./run-queue";

export const CreateRunRequestSchema = z.strictObject({
  revision: RevisionSchema,
  reason: z.optional(z.string().check(z.maxLength(500))),
  requestedBy: z.optional(z.string().check(z.maxLength(200))),
});
export type CreateRunRequest = z.infer<typeof CreateRunRequestSchema>;

export interface StartRunPorts extends QueuePorts {
  apps: AppRepository;
}

export function parseCreateRunRequest(body: unknown): CreateRunRequest {
  const parsed = CreateRunRequestSchema.safeParse(body);
  if (!parsed.success) throw new BadRequestError(formatIssues("run request", parsed.error));
  return parsed.data;
}

/**
 * Records a run of a registered app with its plan (the app's definition as it is now: editing
 * the app later never changes this run), then lets it in by the app's execution mode. The run
 * is written before any execution starts, so an execution never exists without its run.
 */
export async function startRun(
  ports: QueuePorts,
  app: App,
  revision: Revision,
  trigger: RunTrigger,
  /** A caller that must be able to retry without starting twice names the run itself. */
  runId: string = newRunId(ports.clock.now()),
): Promise<Run> {
  const now = ports.clock.now().toISOString();
  const run: Run = {
    id: runId,
    app: app.name,
    status: "QUEUED",
    revision,
    trigger,
    createdAt: now,
    updatedAt: now,
    executionArn: ports.executions.arnOf(runId),
    plan: planRun(app, revision),
    cursor: -1,
    attempt: 1,
    retries: [],
  };
  await ports.runs.create(run, [
    {
      detailType: "Run Queued",
      detail: { runId: run.id, app: run.app, status: run.status, revision, at: now, attempt: 1 },
    },
  ]);
  return admitRun(ports, app, run);
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
): Promise<Run> {
  const trigger: RunTrigger = {
    type: "api",
    ...(request.requestedBy ? { by: request.requestedBy } : {}),
    ...(request.reason ? { reason: request.reason } : {}),
  };
  const app = await requireApp(ports.apps, appName);
  const { revision } = request;
  if (revision.type === "git") return startRun(ports, app, revision, trigger);
  return startRun(ports, app, await releasedBundle(ports, app.name, revision), trigger);
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
