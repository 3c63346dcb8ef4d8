import type { App } from "../domain/app";
import type {
  Clock,
  EventPublisher,
  PipelineStarter,
  QueuedRun,
  RunQueue,
  RunRepository,
} from "../domain/ports";
import { isTerminal, type Run, type RunError } from "../domain/run";

export interface QueuePorts {
  runs: RunRepository;
  queue: RunQueue;
  events: EventPublisher;
  executions: PipelineStarter;
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
 * every run still waiting, since only the newest change is worth deploying next.
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
      if (older.runId === run.id || older.createdAt > run.createdAt) continue;
      await supersede(ports, app.name, older, run.id);
    }
  }
  await dispatchNext(ports, app.name);
  return (await ports.runs.get(run.id)) ?? run;
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
      const held = holder ? await ports.runs.get(holder) : undefined;
      if (holder && held && !isTerminal(held.status)) return;
      if (!holder || !(await ports.queue.acquire(app, next.runId, holder))) continue;
    }
    if (!(await ports.queue.take(app, next))) {
      // Someone superseded it meanwhile; give the slot back and look again.
      await ports.queue.release(app, next.runId);
      continue;
    }
    const run = await ports.runs.get(next.runId);
    if (run?.status !== "QUEUED") {
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
 * Starts the run's pipeline execution, named after the run. If the start fails, the run is
 * marked FAILED rather than left waiting for an execution that will never come.
 */
export async function launchRun(ports: QueuePorts, run: Run): Promise<string> {
  const input: PipelineInput = { runId: run.id, app: run.app, revision: run.revision };
  let executionArn: string;
  try {
    executionArn = await ports.executions.start(run.id, input);
  } catch (err) {
    await endWaitingRun(ports, run, "FAILED", {
      error: "PipelineStartFailed",
      cause: (err as Error).message,
    });
    throw err;
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
  await endWaitingRun(ports, run, "SUPERSEDED", {
    error: "Superseded",
    cause: `a newer change (run ${newerRunId}) replaced it`,
  });
}

/** Ends a run that never started: recorded on the run, then announced. */
async function endWaitingRun(
  ports: QueuePorts,
  run: Run,
  status: "FAILED" | "SUPERSEDED",
  error: RunError,
): Promise<void> {
  const at = ports.clock.now().toISOString();
  await ports.runs.applyProgress(
    run.id,
    { run: { expectedStatus: ["QUEUED"], status, endedAt: at, error } },
    at,
  );
  const detail = { runId: run.id, app: run.app, status, revision: run.revision, at, error };
  await ports.events.publish([
    status === "FAILED"
      ? { detailType: "Run Failed", detail }
      : { detailType: "Run Superseded", detail },
  ]);
}
