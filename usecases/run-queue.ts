import type { App } from "../domain/app";
import { ConflictError, PipelineStartError } from "../domain/errors";
import type {
  Clock,
  EventPublisher,
  PipelineEngine,
  QueuedRun,
  RunQueue,
  RunRepository,
} from "../domain/ports";
import { isTerminal, type Run, type RunError, type RunView } from "../domain/run";

export interface QueuePorts {
  runs: RunRepository;
  queue: RunQueue;
  events: EventPublisher;
  executions: PipelineEngine;
  clock: Clock;
}

/** The input every pipeline execution gets. */
export interface PipelineInput {
  runId: string;
  app: string;
  revision: Run["revision"];
}

/**
 * Lets a newly recorded run in, by the app's execution mode: `parallel` starts it now;
 * `queued` lines it up behind the run in progress; `superseded` does too, but first retires
 * every run still waiting, since only the newest change is worth deploying next. Admitting a
 * run again is harmless, so a caller that died half-way can be followed by one that finishes.
 * Throws PipelineStartError when the run's pipeline could not start.
 */
export async function admitRun(ports: QueuePorts, app: App, run: Run): Promise<Run> {
  if (app.pipeline.executionMode === "parallel") {
    const executionArn = await launchRun(ports, run);
    return { ...run, executionArn };
  }
  const queued: QueuedRun = { runId: run.id, createdAt: run.createdAt };
  await ports.queue.enqueue(app.name, queued);
  if (app.pipeline.executionMode === "superseded") {
    for (const older of await ports.queue.waiting(app.name)) {
      if (!isBefore(older, queued)) continue;
      await supersede(ports, app.name, older, run.id);
    }
  }
  await dispatchNext(ports, app.name);
  const admitted = (await ports.runs.get(run.id)) ?? run;
  if (failedToStart(admitted)) throw new PipelineStartError(run.id);
  return admitted;
}

/** Ended because its pipeline could not be started, so it never ran at all. */
export function failedToStart(run: Run): boolean {
  return run.status === "FAILED" && run.error?.error === PIPELINE_START_FAILED;
}

const PIPELINE_START_FAILED = "PipelineStartFailed";

/** Queue order: by creation time, and by run id within the same millisecond. */
function isBefore(a: QueuedRun, b: QueuedRun): boolean {
  return a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.runId < b.runId);
}

/**
 * Step Functions says a run's execution ended badly (failed, timed out, stopped). If the run
 * did not record its own end, as when its last step failed, it is ended here and its app's
 * slot passed on, rather than left RUNNING with nothing behind it.
 */
export async function executionEnded(
  ports: QueuePorts,
  runId: string,
  status: string,
): Promise<void> {
  const run = await ports.runs.get(runId);
  if (!run || isTerminal(run.status)) return;
  await endRun(ports, run, "FAILED", executionEndedError(status));
  await runEnded(ports, run.app, run.id);
}

function executionEndedError(status: string): RunError {
  return {
    error: "ExecutionEnded",
    cause: `its pipeline execution ended (${status}) without recording the run's end`,
  };
}

/** Called when a run has ended: frees the app's slot and starts whoever waits next. */
export async function runEnded(ports: QueuePorts, app: string, runId: string): Promise<void> {
  await ports.queue.release(app, runId);
  await dispatchNext(ports, app);
}

/**
 * Starts the oldest waiting run if the app's slot is free. A slot whose holder has ended (its
 * execution died before it could say so) is taken over, so a queue never stalls for good.
 */
export async function dispatchNext(ports: QueuePorts, app: string): Promise<void> {
  for (;;) {
    const [next] = await ports.queue.waiting(app);
    if (!next) return;
    if (!(await ports.queue.acquire(app, next.runId))) {
      const holder = await ports.queue.holder(app);
      if (holder && (await isUnderWay(ports, holder))) return;
      if (!holder || !(await ports.queue.acquire(app, next.runId, holder))) continue;
    }
    const won = await ports.queue.take(app, next);
    const run = await ports.runs.get(next.runId);
    if (!won || run?.status !== "QUEUED" || run.executionArn) {
      // Another dispatcher took it or started it, and the slot is rightly its own; or it ended
      // (superseded, say) while waiting, and the slot goes to whoever is next.
      if (run && !isTerminal(run.status)) return;
      await ports.queue.release(app, next.runId);
      continue;
    }
    try {
      await launchRun(ports, run);
      return;
    } catch {
      // launchRun marked the run FAILED; the slot goes to the next in line.
      await ports.queue.release(app, next.runId);
    }
  }
}

/**
 * Whether the run holding an app's slot is still under way. Its execution may have ended without
 * the run hearing of it (its last task failed, someone stopped it, it timed out): that run is
 * ended here. Its dispatcher may have died before starting it: it is started now. Either way a
 * queue never stalls for good.
 */
async function isUnderWay(ports: QueuePorts, runId: string): Promise<boolean> {
  const run = await ports.runs.get(runId);
  if (!run || isTerminal(run.status)) return false;
  if (!run.executionArn) {
    // Starting is idempotent, should its dispatcher be alive after all.
    try {
      await launchRun(ports, run);
      return true;
    } catch (err) {
      if (err instanceof PipelineStartError) return false;
      throw err;
    }
  }
  const status = await ports.executions.status(run.executionArn);
  if (status === "RUNNING") return true;
  await endRun(ports, run, "FAILED", executionEndedError(status));
  return false;
}

/**
 * Starts the run's pipeline execution, named after the run. If the start fails, the run is
 * marked FAILED rather than left waiting for an execution that will never come.
 */
export async function launchRun(ports: QueuePorts, run: Run): Promise<string> {
  const input: PipelineInput = { runId: run.id, app: run.app, revision: run.revision };
  let executionArn: string;
  try {
    executionArn = await ports.executions.start(run.id, input);
  } catch (err) {
    await endRun(ports, run, "FAILED", {
      error: PIPELINE_START_FAILED,
      cause: (err as Error).message,
    });
    throw new PipelineStartError(run.id, { cause: err });
  }
  await ports.runs.setExecutionArn(run.id, executionArn, ports.clock.now().toISOString());
  return executionArn;
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
 * Recorded on the run, then announced.
 */
async function endRun(
  ports: QueuePorts,
  run: Run | RunView,
  status: "FAILED" | "SUPERSEDED",
  error: RunError,
): Promise<void> {
  const at = ports.clock.now().toISOString();
  // The stage its execution was in ends with it, rather than stay RUNNING on an ended run.
  const open = "stages" in run ? run.stages.find((stage) => stage.status === "RUNNING") : undefined;
  try {
    await ports.runs.applyProgress(
      run.id,
      {
        run: {
          // A superseded run was waiting; a failed one may have had an execution that is gone.
          expectedStatus: status === "SUPERSEDED" ? ["QUEUED"] : ["QUEUED", "RUNNING"],
          status,
          endedAt: at,
          error,
        },
        ...(open
          ? { stage: { ...open, status: "FAILED", endedAt: at, message: error.cause } }
          : {}),
      },
      at,
    );
  } catch (err) {
    // It ended meanwhile by its own pipeline's hand, which has announced it.
    if (err instanceof ConflictError) return;
    throw err;
  }
  const detail = { runId: run.id, app: run.app, status, revision: run.revision, at, error };
  await ports.events.publish([
    status === "FAILED"
      ? { detailType: "Run Failed", detail }
      : { detailType: "Run Superseded", detail },
  ]);
}
