import { NotFoundError } from "../domain/errors";
import type { AppRepository } from "../domain/ports";
import { RunIdSchema, type RunView } from "../domain/run";
import { parseRequest } from "../domain/validation";
import * as z from "../domain/zod";
import { reopenIfRedriven } from "./run-control";
import type { QueuePorts } from "./run-queue";

/** What a task of the pipeline about one step gets: its run and step. */
export const StepTaskInputSchema = z.object({
  runId: RunIdSchema,
  index: z.number().check(z.int(), z.nonnegative()),
  attempt: z.number().check(z.int(), z.positive()),
});

/** What a `.waitForTaskToken` task of the pipeline gets: its run, step and token. */
export const TokenTaskInputSchema = z.extend(StepTaskInputSchema, {
  taskToken: z.string().check(z.minLength(1), z.maxLength(2048)),
});

/**
 * The run a step's task works on, with the step it is for. A run whose execution was redriven
 * outside Sluice goes on as a retry first.
 */
export async function stepTask(
  ports: QueuePorts & { apps: AppRepository },
  input: unknown,
  what: string,
): Promise<{ run: RunView; index: number }> {
  const { runId, index } = parseRequest(StepTaskInputSchema, what, input);
  return runOf(ports, runId, index);
}

/**
 * The run a token task works on, with the step it is for and the token that resumes it. A run
 * whose execution was redriven outside Sluice goes on as a retry first.
 */
export async function tokenTask(
  ports: QueuePorts & { apps: AppRepository },
  input: unknown,
  what: string,
): Promise<{ run: RunView; index: number; token: string }> {
  const { runId, index, taskToken } = parseRequest(TokenTaskInputSchema, what, input);
  return { ...(await runOf(ports, runId, index)), token: taskToken };
}

/**
 * As tokenTask, and keeps the token (where a stop finds it) while the run is read, rather than
 * after: under the step's attempt as the task names it, and again under the run's own if a
 * redrive moved it on.
 */
export async function keptTokenTask(
  ports: QueuePorts & { apps: AppRepository },
  input: unknown,
  what: string,
): Promise<{ run: RunView; index: number; token: string }> {
  const { runId, index, attempt, taskToken } = parseRequest(TokenTaskInputSchema, what, input);
  const [task] = await Promise.all([
    runOf(ports, runId, index),
    ports.runs.putTaskToken(runId, index, attempt, taskToken),
  ]);
  if (task.run.attempt !== attempt) {
    await ports.runs.putTaskToken(runId, index, task.run.attempt, taskToken);
  }
  return { ...task, token: taskToken };
}

async function runOf(
  ports: QueuePorts & { apps: AppRepository },
  runId: string,
  index: number,
): Promise<{ run: RunView; index: number }> {
  const stored = await ports.runs.get(runId);
  if (!stored) throw new NotFoundError(`run ${runId} does not exist`);
  return { run: await reopenIfRedriven(ports, stored), index };
}
