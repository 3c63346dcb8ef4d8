import { ulid } from "ulid";
import { z } from "zod";
import { BadRequestError, NotFoundError } from "../domain/errors";
import type {
  AppRepository,
  Clock,
  EventPublisher,
  PipelineStarter,
  RunRepository,
} from "../domain/ports";
import { type Revision, RevisionSchema } from "../domain/revision";
import type { Run, RunTrigger } from "../domain/run";
import { formatIssues } from "../domain/validation";

export const CreateRunRequestSchema = z
  .object({
    revision: RevisionSchema,
    reason: z.string().max(500).optional(),
    requestedBy: z.string().max(200).optional(),
  })
  .strict();
export type CreateRunRequest = z.infer<typeof CreateRunRequestSchema>;

/** The input every pipeline execution gets. */
export interface PipelineInput {
  runId: string;
  app: string;
  revision: Revision;
}

export interface StartRunPorts {
  apps: AppRepository;
  runs: RunRepository;
  events: EventPublisher;
  executions: PipelineStarter;
  clock: Clock;
}

export function parseCreateRunRequest(body: unknown): CreateRunRequest {
  const parsed = CreateRunRequestSchema.safeParse(body);
  if (!parsed.success) throw new BadRequestError(formatIssues("run request", parsed.error));
  return parsed.data;
}

/**
 * Records a run and starts its pipeline execution, named after the run. The run is written
 * before the execution starts, so an execution never exists without its run; if the start
 * fails the run is marked FAILED rather than left waiting forever.
 */
export async function startRun(
  ports: StartRunPorts,
  appName: string,
  revision: Revision,
  trigger: RunTrigger,
  /** A caller that must be able to retry without starting twice names the run itself. */
  runId: string = ulid(ports.clock.now().getTime()),
): Promise<Run> {
  const app = await ports.apps.get(appName);
  if (!app) throw new NotFoundError(`app "${appName}" is not registered`);
  const now = ports.clock.now().toISOString();
  const run: Run = {
    id: runId,
    app: app.name,
    status: "QUEUED",
    revision,
    trigger,
    createdAt: now,
    updatedAt: now,
  };
  await ports.runs.create(run);
  await ports.events.publish([
    {
      detailType: "Run Queued",
      detail: { runId: run.id, app: run.app, status: run.status, revision, at: now },
    },
  ]);
  const input: PipelineInput = { runId: run.id, app: run.app, revision };
  let executionArn: string;
  try {
    executionArn = await ports.executions.start(run.id, input);
  } catch (err) {
    const failedAt = ports.clock.now().toISOString();
    const error = { error: "PipelineStartFailed", cause: (err as Error).message };
    await ports.runs.applyProgress(
      run.id,
      { run: { expectedStatus: ["QUEUED"], status: "FAILED", endedAt: failedAt, error } },
      failedAt,
    );
    await ports.events.publish([
      {
        detailType: "Run Failed",
        detail: { runId: run.id, app: run.app, status: "FAILED", revision, at: failedAt, error },
      },
    ]);
    throw err;
  }
  await ports.runs.setExecutionArn(run.id, executionArn, now);
  return { ...run, executionArn };
}
