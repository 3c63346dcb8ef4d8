import type { App } from "../domain/app";
import { ConflictError, NotFoundError } from "../domain/errors";
import type { AppRepository, Deployments } from "../domain/ports";
import { isTerminal, type OperatorAction, type RunView } from "../domain/run";
import { openStep, type RunTransition, retryTransition, stopRequested } from "../domain/steps";
import { parseRequest } from "../domain/validation";
import * as z from "../domain/zod";
import { requireApp } from "./require-app";
import { endRun, type QueuePorts, runEnded } from "./run-queue";

export const OperatorRequestSchema = z.strictObject({
  reason: z.optional(z.string().check(z.maxLength(500))),
});

function action(ports: QueuePorts, by: string, body: unknown): OperatorAction {
  const request = parseRequest(OperatorRequestSchema, "request", body ?? {});
  return {
    by,
    at: ports.clock.now().toISOString(),
    ...(request.reason ? { reason: request.reason } : {}),
  };
}

async function requireRun(ports: QueuePorts, runId: string): Promise<RunView> {
  const run = await ports.runs.get(runId);
  if (!run) throw new NotFoundError(`run ${runId} does not exist`);
  return run;
}

/**
 * Stops a run: one still waiting leaves its queue; a running one has its execution stopped
 * (its current task is cancelled) and ends STOPPED. Recorded with who asked and why.
 */
export async function stopRun(
  ports: QueuePorts & { deployments?: Deployments },
  runId: string,
  by: string,
  body: unknown,
): Promise<RunView> {
  const stop = action(ports, by, body);
  const run = await requireRun(ports, runId);
  if (isTerminal(run.status)) {
    throw new ConflictError(`run ${runId} has already ended (status ${run.status})`);
  }
  const cause = stop.reason ? `stopped by ${by}: ${stop.reason}` : `stopped by ${by}`;
  const arn = ports.executions.arnOf(runId);
  if ((await ports.executions.status(arn)) === "RUNNING") {
    // Recorded first, so that the execution's end, should it be heard first, reads as a stop.
    if (run.status === "RUNNING") await ports.runs.apply(runId, stopRequested(run, stop), stop.at);
    if (await stopIntoRollback(ports, run, cause)) return requireRun(ports, runId);
    await ports.executions.stop(arn, "Sluice.Stopped", cause);
  }
  // The execution's end would end the run too; ending it here answers the caller at once.
  await endRun(ports, { ...run, stopRequest: stop }, "STOPPED", {
    error: "Sluice.Stopped",
    cause,
  });
  await runEnded(ports, run.app, run.id);
  return requireRun(ports, runId);
}

/**
 * A run that has deployed somewhere is stopped by failing the step it waits in with
 * Sluice.Stopped: the state machine then rolls back every group it touched, as after any
 * failure, and the run ends ROLLED_BACK. Its deployment in progress, if any, is stopped.
 */
async function stopIntoRollback(
  ports: QueuePorts & { deployments?: Deployments },
  run: RunView,
  cause: string,
): Promise<boolean> {
  const step = run.plan.steps[run.cursor];
  const record = openStep(run);
  const deployed = run.steps.some((s) => s.attempt === run.attempt && s.deploymentId);
  if (!deployed || !record || !["deploy", "bake", "approval"].includes(step?.kind ?? "")) {
    return false;
  }
  const token = await ports.runs.taskToken(run.id, run.cursor, run.attempt);
  if (!token) return false;
  if (record.deploymentId && ports.deployments) await ports.deployments.stop(record.deploymentId);
  try {
    await ports.executions.failTask(token, "Sluice.Stopped", cause);
    return true;
  } catch (err) {
    if (err instanceof ConflictError) return false;
    throw err;
  }
}

/**
 * A queued or superseded app's run going on again needs its app's slot back, so it never runs
 * beside another; a ConflictError (worded by `refusal`) names the run that holds it. The mode
 * is the app's now, which the retry records on the run (inAppMode), so that the run's end
 * frees the slot exactly when the run took it.
 */
async function takeSlotBack(
  ports: QueuePorts & { apps: AppRepository },
  run: RunView,
  refusal: (app: string, holder: string) => string,
): Promise<{ app: App; exclusive: boolean }> {
  const app = await requireApp(ports.apps, run.app);
  const exclusive = app.pipeline.executionMode !== "parallel";
  if (exclusive && !(await ports.queue.acquire(app.name, run.id))) {
    const holder = await ports.queue.holder(app.name);
    throw new ConflictError(refusal(app.name, holder ?? "another run"));
  }
  return { app, exclusive };
}

/** A retry that records the execution mode the run goes on in: the app's now. */
function inAppMode(retry: RunTransition, app: App): RunTransition {
  return { ...retry, set: { ...retry.set, executionMode: app.pipeline.executionMode } };
}

/** What a run retried by a RedriveExecution call made outside Sluice records as its author. */
export const REDRIVE_ACTOR = "Step Functions RedriveExecution";

/**
 * A task of a run that has ended FAILED or STOPPED is running: someone redrove its execution
 * outside Sluice (the console, `aws stepfunctions redrive-execution`). The run goes on as a
 * retry would: RUNNING again, one attempt more, the step it ended in recorded anew. A queued
 * or superseded app's run must get its app's slot back first; if another run holds it, the
 * task is refused (Conflict), so the app never runs two at once.
 */
export async function reopenIfRedriven(
  ports: QueuePorts & { apps: AppRepository },
  run: RunView,
): Promise<RunView> {
  if (run.status !== "FAILED" && run.status !== "STOPPED") return run;
  const arn = ports.executions.arnOf(run.id);
  if ((await ports.executions.status(arn)) !== "RUNNING") return run;
  const { app } = await takeSlotBack(
    ports,
    run,
    (app, holder) =>
      `run ${run.id} was redriven while app ${app} runs ${holder}; retry it once that has ended`,
  );
  const at = ports.clock.now().toISOString();
  try {
    await ports.runs.apply(
      run.id,
      inAppMode(retryTransition(run, { by: REDRIVE_ACTOR, at }), app),
      at,
    );
  } catch (err) {
    // Another task of the same execution reopened it first.
    if (!(err instanceof ConflictError)) throw err;
  }
  return requireRun(ports, run.id);
}

/**
 * Retries a failed or stopped run from the step it ended in: a new attempt of the run, whose
 * execution is redriven (it goes on from the state that failed, with everything before it kept).
 * A queued or superseded app's run takes its app's slot again, so it never runs beside another.
 */
export async function retryRun(
  ports: QueuePorts & { apps: AppRepository },
  runId: string,
  by: string,
  body: unknown,
): Promise<RunView> {
  const retry = action(ports, by, body);
  const run = await requireRun(ports, runId);
  const transition = retryTransition(run, retry);
  if (run.cursor < 0) {
    throw new ConflictError(`run ${runId} never started a step; start a new run instead`);
  }
  const { app, exclusive } = await takeSlotBack(
    ports,
    run,
    (app, holder) => `app ${app} is running ${holder}; retry once it has ended`,
  );
  try {
    await ports.runs.apply(runId, inAppMode(transition, app), retry.at);
  } catch (err) {
    if (exclusive) await ports.queue.release(app.name, run.id);
    throw err;
  }
  try {
    await ports.executions.redrive(ports.executions.arnOf(runId));
  } catch (err) {
    // Nothing goes on after all: the run ends again as it was, and gives its slot back.
    const view = await requireRun(ports, runId);
    await endRun(ports, view, run.status === "STOPPED" ? "STOPPED" : "FAILED", {
      error: run.error?.error ?? "Sluice.Conflict",
      cause: `${run.error?.cause ?? ""} (retry by ${by} failed: ${(err as Error).message})`,
    });
    if (exclusive) await runEnded(ports, app.name, run.id);
    throw err;
  }
  return requireRun(ports, runId);
}
