import { z } from "zod";
import { BadRequestError, NotFoundError } from "../domain/errors";
import type { Clock, EventPublisher, RunRepository } from "../domain/ports";
import { ProgressSchema, planProgress } from "../domain/progress";
import type { RunStatus } from "../domain/run";
import { formatIssues } from "../domain/validation";

export const RecordProgressInputSchema = z.object({
  runId: z.string().min(1),
  progress: ProgressSchema,
});

/** One pipeline step's bookkeeping: update the run in the table, then say so on the bus. */
export async function recordProgress(
  ports: { runs: RunRepository; events: EventPublisher; clock: Clock },
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
  return { runId, status: change.run?.status ?? run.status };
}
