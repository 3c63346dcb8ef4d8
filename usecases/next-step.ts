import { ConflictError, NotFoundError } from "../domain/errors";
import type { AppRepository } from "../domain/ports";
import { RunIdSchema } from "../domain/run";
import { advance, type StackPlaces, type StepTask } from "../domain/steps";
import { parseRequest } from "../domain/validation";
import * as z from "../domain/zod";
import { type LockPorts, settleLocks } from "./group-locks";
import { reopenIfRedriven } from "./run-control";
import type { QueuePorts } from "./run-queue";

/** What the state machine hands its NextStep task: the step it finished and that step's result. */
export const NextStepInputSchema = z.object({
  runId: RunIdSchema,
  step: z.nullable(
    z.looseObject({ index: z.number().check(z.int()), attempt: z.number().check(z.int()) }),
  ),
  result: z.optional(z.unknown()),
});

/** The state the pipeline goes on with: the step to enter (or the end) and no result yet. */
export interface PipelineState {
  runId: string;
  step: StepTask;
  result: null;
}

/**
 * The pipeline's walk through a run's plan: records the end of the step the state machine
 * finished and the start of the next, with their events, in one write. A retried call (the
 * write went through but its answer was lost) finds the run already moved on and answers the
 * same step again. A run whose execution was redriven outside Sluice goes on as a retry. The
 * deployment group the finished step held is let go once the run moves past it.
 */
export async function nextStep(
  ports: QueuePorts & LockPorts & { apps: AppRepository },
  input: unknown,
  /** Where the stack keeps what builds make; a run whose build makes a bundle needs it. */
  stack?: StackPlaces,
): Promise<PipelineState> {
  const { runId, step, result } = parseRequest(NextStepInputSchema, "next step", input);
  for (let tries = 0; ; tries++) {
    const stored = await ports.runs.get(runId);
    if (!stored) throw new NotFoundError(`run ${runId} does not exist`);
    const run = await reopenIfRedriven(ports, stored);
    const now = ports.clock.now().toISOString();
    const { transition, task } = advance(
      run,
      step ? { index: step.index, result } : null,
      now,
      stack,
    );
    try {
      // A group is held from its deployment through its tests or bake, and let go after: the
      // step is over whatever the write answers, so its lock is settled beside it.
      await Promise.all([
        transition ? ports.runs.apply(runId, transition, now) : undefined,
        step ? settleLocks(ports, run, step.index, task) : undefined,
      ]);
      return { runId, step: task, result: null };
    } catch (err) {
      // Another call of the same step moved the run on first: read it again and answer as it did.
      if (!(err instanceof ConflictError) || tries > 0) throw err;
    }
  }
}
