import { z } from "zod";
import { BadRequestError, NotFoundError } from "../domain/errors";

import { ProgressSchema, planProgress } from "../domain/progress";
import { isTerminal, type RunStatus } from "../domain/run";
import { formatIssues } from "../domain/validation";
import { type QueuePorts, runEnded } from "./run-queue";

export const RecordProgressInputSchema = z.object({
  runId: z.string().min(1),
  progress: ProgressSchema,
});

/**
 * One pipeline step's bookkeeping: update the run in the table, then say so on the bus. When
 * the step ends the run, the app's next waiting run gets its turn.
 */
export async function recordProgress(
  ports: QueuePorts,
  input: unknown,
): Promise<{ runId: string; status: RunStatus }> {
  const parsed = RecordProgressInputSchema.safeParse(input);
  if (!parsed.success) throw new BadRequestError(formatIssues("progress", parsed.error));
  const { runId, progress } = parsed.data;
  const run = await ports.runs.get(runId);
  if (!run) throw new NotFoundError(`run ${runId} does not exist`);
  const now = ports.clock.now().toISOString();
  const { event, ...change } = planProgress(run, progress, now);
  await ports.runs.applyProgress(runId, change, now);
  await ports.events.publish([event]);
  const status = change.run?.status ?? run.status;
  if (isTerminal(status)) await runEnded(ports, run.app, runId);
  return { runId, status };
}
