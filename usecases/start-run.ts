import { z } from "zod";
import { BadRequestError, NotFoundError } from "../domain/errors";
import type { AppRepository } from "../domain/ports";
import { type Revision, RevisionSchema } from "../domain/revision";
import { newRunId, type Run, type RunTrigger } from "../domain/run";
import { formatIssues } from "../domain/validation";
import { admitRun, type QueuePorts } from "./run-queue";

export const CreateRunRequestSchema = z
  .object({
    revision: RevisionSchema,
    reason: z.string().max(500).optional(),
    requestedBy: z.string().max(200).optional(),
  })
  .strict();
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
 * Records a run, then lets it in by the app's execution mode. The run is written before any
 * execution starts, so an execution never exists without its run.
 */
export async function startRun(
  ports: StartRunPorts,
  appName: string,
  revision: Revision,
  trigger: RunTrigger,
  /** A caller that must be able to retry without starting twice names the run itself. */
  runId: string = newRunId(ports.clock.now()),
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
  return admitRun(ports, app, run);
}
