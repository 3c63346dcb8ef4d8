import { approvalEnd } from "../domain/approval-gate";
import { ConflictError, PipelineStartError } from "../domain/errors";
import { runErrorOf } from "../domain/execution-errors";
import type {
  Clock,
  ExecutionEnd,
  PipelineEngine,
  QueuedRun,
  RunQueue,
  RunRepository,
} from "../domain/ports";
import { isTerminal, type Run, type RunError, type RunView } from "../domain/run";
import { endTransition } from "../domain/steps";

export interface QueuePorts {
  runs: RunRepository;
  queue: RunQueue;
  executions: PipelineEngine;
  clock: Clock;
}

/**
 * The input every pipeline execution gets: the run, and no step finished yet. The state
 * machine carries the step it is in and that step's result from then on.
 */
export interface PipelineInput {
  runId: string;
  step: null;
  result: null;
}

/**
 * Lets a newly recorded run in, by the execution mode it was recorded with: `parallel` starts it
 * now; `queued` lines it up behind the run in progress; `superseded` does too, but first retires
 * every run still waiting, since only the newest change is worth deploying next. Admitting a
 * run again is harmless, so a failed admission is simply tried again. Throws PipelineStartError
 * when Step Functions would not start a run's pipeline; that run keeps its place (and, in the
 * queued modes, the slot), so the next try starts it.
 */
export async function admitRun(ports: QueuePorts, run: Run): Promise<void> {
  // Stopped before its admission, or let in already by an earlier delivery of its record.
  if ((await ports.runs.get(run.id))?.status !== "QUEUED") return;
  const mode = run.executionMode ?? "queued";
  if (mode === "parallel") {
    await launchRun(ports, run);
    return;
  }
  const queued: QueuedRun = { runId: run.id, createdAt: run.createdAt };
  await ports.queue.enqueue(run.app, queued);
  if (mode === "superseded") {
    for (const older of await ports.queue.waiting(run.app)) {
      if (!isBefore(older, queued)) continue;
      await supersede(ports, run.app, older, run.id);
    }
  }
  await dispatchNext(ports, run.app);
}

/**
 * Ends a run whose pipeline Step Functions would not start however often it was asked, and
 * passes the app's slot on if the run held it.
 */
export async function failToStart(ports: QueuePorts, runId: string, cause: string): Promise<void> {
  const run = await ports.runs.get(runId);
  if (!run) return;
  if (run.status === "QUEUED") {
    await endRun(ports, run, "FAILED", { error: PIPELINE_START_FAILED, cause });
  }
  if (run.executionMode !== "parallel") await runEnded(ports, run.app, run.id);
}

/** The error of a run whose pipeline never started. */
const PIPELINE_START_FAILED = "PipelineStartFailed";

/** Queue order: by creation time, and by run id within the same millisecond. */
function isBefore(a: QueuedRun, b: QueuedRun): boolean {
  return a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.runId < b.runId);
}

/**
 * Step Functions says a run's execution ended. If the run did not record its own end (it failed,
 * timed out or was stopped), it is ended here with the execution's error; either way the app's
 * slot is passed on, unless the run was a `parallel` one, which never held it. This runs after
 * the run's own last step, so it can never fail that run. Answers the run as it was read: its
 * plan, which never changes, is all the caller needs of it.
 */
export async function executionEnded(
  ports: QueuePorts,
  runId: string,
  end: ExecutionEnd,
): Promise<RunView | undefined> {
  const run = await ports.runs.get(runId);
  if (!run) return undefined;
  if (!isTerminal(run.status) && end.status !== "RUNNING" && end.status !== "SUCCEEDED") {
    // The event may say less than the execution knows (AWS leaves error and cause out of it).
    const known = end.error ? end : await ports.executions.describe(ports.executions.arnOf(runId));
    const stopped = end.status === "ABORTED" && run.stopRequest;
    await endRun(
      ports,
      run,
      stopped ? "STOPPED" : "FAILED",
      stopped
        ? { error: "Sluice.Stopped", cause: stopReason(run) }
        : executionEndedError(end.status, known),
    );
  }
  if (run.executionMode !== "parallel") await runEnded(ports, run.app, run.id);
  return run;
}

function stopReason(run: Run): string {
  const by = run.stopRequest ? `stopped by ${run.stopRequest.by}` : "stopped";
  return run.stopRequest?.reason ? `${by}: ${run.stopRequest.reason}` : by;
}

function executionEndedError(status: string, end: ExecutionEnd): RunError {
  if (end.error) return runErrorOf(end.error, end.cause);
  return {
    error: "ExecutionEnded",
    cause: `its pipeline execution ended (${status}) without recording the run's end`,
  };
}

/**
 * Called when a run has ended: frees the app's slot and starts whoever waits next. Nothing
 * retries this call, so a next run Step Functions will not start is ended FAILED and the slot
 * goes on, rather than the queue waiting on it.
 */
export async function runEnded(ports: QueuePorts, app: string, runId: string): Promise<void> {
  await ports.queue.release(app, runId);
  await dispatchNext(ports, app, "fail");
}

/**
 * What a dispatch does with a run Step Functions would not start: `retry` leaves it holding the
 * slot, QUEUED, and throws the PipelineStartError, for a caller that is tried again (admission,
 * off the stream): the next dispatch starts that run (see isUnderWay). `fail` ends it FAILED
 * (PipelineStartFailed) and goes on with the next.
 */
type StartFailure = "retry" | "fail";

/**
 * Starts the oldest waiting run if the app's slot is free. A slot whose holder has ended (its
 * execution died before it could say so) is taken over, so a queue never stalls for good.
 */
export async function dispatchNext(
  ports: QueuePorts,
  app: string,
  onStartFailure: StartFailure = "retry",
): Promise<void> {
  for (;;) {
    const [next] = await ports.queue.waiting(app, 1);
    if (!next) return;
    if (!(await ports.queue.acquire(app, next.runId))) {
      const holder = await ports.queue.holder(app);
      if (holder && (await isUnderWay(ports, holder, onStartFailure))) return;
      if (!holder || !(await ports.queue.acquire(app, next.runId, holder))) continue;
    }
    // Read beside the take: whoever else takes or ends the run meanwhile can do so either way.
    const [won, run] = await Promise.all([ports.queue.take(app, next), ports.runs.get(next.runId)]);
    if (!won || run?.status !== "QUEUED") {
      // Another dispatcher took it or started it, and the slot is rightly its own; or it ended
      // (superseded, say) while waiting, and the slot goes to whoever is next.
      if (run && !isTerminal(run.status)) return;
      await ports.queue.release(app, next.runId);
      continue;
    }
    if (await started(ports, run, onStartFailure)) return;
    await ports.queue.release(app, next.runId);
  }
}

/** Whether the run's pipeline started; false when it would not and the run was ended for it. */
async function started(ports: QueuePorts, run: Run, onStartFailure: StartFailure) {
  try {
    await launchRun(ports, run);
    return true;
  } catch (err) {
    if (!(err instanceof PipelineStartError) || onStartFailure === "retry") throw err;
    await endRun(ports, run, "FAILED", { error: PIPELINE_START_FAILED, cause: causeOf(err) });
    return false;
  }
}

/** What Step Functions said when it would not start a run, for a person. */
export function causeOf(err: PipelineStartError): string {
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  return cause ? `${err.message}: ${cause}` : err.message;
}

/**
 * Whether the run holding an app's slot is still under way. Its execution may have ended without
 * the run hearing of it (its last task failed, someone stopped it, it timed out): that run is
 * ended here. Its dispatcher may have died before starting it: it is started now. Either way a
 * queue never stalls for good.
 */
async function isUnderWay(
  ports: QueuePorts,
  runId: string,
  onStartFailure: StartFailure,
): Promise<boolean> {
  const run = await ports.runs.get(runId);
  if (!run || isTerminal(run.status)) return false;
  const end = await ports.executions.describe(ports.executions.arnOf(run.id));
  if (end.status === "RUNNING") return true;
  if (end.status === "GONE" && run.status === "QUEUED") {
    // Its dispatcher died, or Step Functions refused, before it started. Starting is idempotent.
    return started(ports, run, onStartFailure);
  }
  await endRun(ports, run, "FAILED", executionEndedError(end.status, end));
  return false;
}

/**
 * Starts the run's pipeline execution, named after the run, so nothing needs writing once it
 * has started. A PipelineStartError when it did not start (and no execution came of it after
 * all); the run is left QUEUED for the next try.
 */
export async function launchRun(ports: QueuePorts, run: Run): Promise<string> {
  const input: PipelineInput = { runId: run.id, step: null, result: null };
  try {
    return await ports.executions.start(run.id, input);
  } catch (err) {
    const arn = ports.executions.arnOf(run.id);
    const started = await ports.executions.status(arn).catch(() => "GONE" as const);
    if (started !== "GONE") return arn;
    throw new PipelineStartError(run.id, { cause: err });
  }
}

async function supersede(
  ports: QueuePorts,
  app: string,
  waiting: QueuedRun,
  newerRunId: string,
): Promise<void> {
  if (!(await ports.queue.take(app, waiting))) return;
  const run = await ports.runs.get(waiting.runId);
  if (run?.status !== "QUEUED") return;
  await endRun(ports, run, "SUPERSEDED", {
    error: "Superseded",
    cause: `a newer change (run ${newerRunId}) replaced it`,
  });
}

/**
 * Ends a run its pipeline will not end: one that never started, or whose execution is gone.
 * Recorded on the run together with its events.
 */
export async function endRun(
  ports: QueuePorts,
  run: Run | RunView,
  status: "FAILED" | "SUPERSEDED" | "STOPPED",
  error: RunError,
): Promise<void> {
  const at = ports.clock.now().toISOString();
  const view = "steps" in run ? run : await ports.runs.get(run.id);
  if (!view) return;
  const transition =
    (status === "FAILED" ? approvalEnd(view, error, at) : undefined) ??
    endTransition(view, status, error, at);
  try {
    await ports.runs.apply(
      run.id,
      // A superseded run was waiting; a failed or stopped one may have had an execution.
      status === "SUPERSEDED" ? { ...transition, expect: { status: ["QUEUED"] } } : transition,
      at,
    );
  } catch (err) {
    // It ended meanwhile by its own pipeline's hand.
    if (err instanceof ConflictError) return;
    throw err;
  }
}
