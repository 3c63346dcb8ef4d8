import type { App } from "../../domain/app";
import { ConflictError } from "../../domain/errors";
import type { LifecycleEvent } from "../../domain/lifecycle-events";
import type {
  AppRepository,
  Clock,
  EventPublisher,
  ExecutionStatus,
  PipelineEngine,
  QueuedRun,
  RunQueue,
  RunRepository,
} from "../../domain/ports";
import type { ProgressPlan } from "../../domain/progress";
import type { Revision } from "../../domain/revision";
import type { Run, RunView } from "../../domain/run";

/** In-memory ports with the same conditions as the DynamoDB adapters, for use-case tests. */
export class MemoryRuns implements RunRepository {
  readonly items = new Map<string, RunView>();

  async create(run: Run) {
    if (this.items.has(run.id)) throw new ConflictError(`run ${run.id} already exists`);
    this.items.set(run.id, { ...run, stages: [] });
  }
  async get(runId: string) {
    const run = this.items.get(runId);
    return run ? structuredClone(run) : undefined;
  }
  async listByApp(app: string) {
    return [...this.items.values()].filter((r) => r.app === app).reverse();
  }
  async setExecutionArn(runId: string, executionArn: string) {
    this.must(runId).executionArn = executionArn;
  }
  async pinRevision(runId: string, revision: Revision) {
    this.must(runId).revision = revision;
  }
  async applyProgress(runId: string, change: Omit<ProgressPlan, "event">, now: string) {
    const run = this.must(runId);
    const expected = change.run?.expectedStatus ?? ["RUNNING"];
    if (!expected.includes(run.status)) throw new ConflictError(`run ${runId} changed status`);
    if (change.run) {
      const { expectedStatus: _, ...fields } = change.run;
      Object.assign(run, fields);
    }
    if (change.stage) {
      run.stages = [...run.stages.filter((s) => s.name !== change.stage?.name), change.stage];
    }
    run.updatedAt = now;
  }
  private must(runId: string): RunView {
    const run = this.items.get(runId);
    if (!run) throw new Error(`no run ${runId}`);
    return run;
  }
}

export class MemoryQueue implements RunQueue {
  readonly waitingRuns = new Map<string, QueuedRun[]>();
  readonly slots = new Map<string, string>();

  async enqueue(app: string, run: QueuedRun) {
    const list = [...(this.waitingRuns.get(app) ?? []), run];
    list.sort((a, b) => `${a.createdAt}#${a.runId}`.localeCompare(`${b.createdAt}#${b.runId}`));
    this.waitingRuns.set(app, list);
  }
  async waiting(app: string) {
    return [...(this.waitingRuns.get(app) ?? [])];
  }
  async take(app: string, run: QueuedRun) {
    const list = this.waitingRuns.get(app) ?? [];
    const index = list.findIndex((r) => r.runId === run.runId);
    if (index < 0) return false;
    list.splice(index, 1);
    return true;
  }
  async holder(app: string) {
    return this.slots.get(app);
  }
  async acquire(app: string, runId: string, replacing?: string) {
    const current = this.slots.get(app);
    const free = replacing ? current === replacing : current === undefined || current === runId;
    if (free) this.slots.set(app, runId);
    return free;
  }
  async release(app: string, runId: string) {
    if (this.slots.get(app) !== runId) return false;
    this.slots.delete(app);
    return true;
  }
}

export class MemoryEvents implements EventPublisher {
  readonly published: LifecycleEvent[] = [];
  async publish(events: readonly LifecycleEvent[]) {
    this.published.push(...events);
  }
}

/** Step Functions as the queue sees it: a run's execution starts once, and runs until ended. */
export class MemoryExecutions implements PipelineEngine {
  readonly started: string[] = [];
  private readonly ended = new Map<string, ExecutionStatus>();
  failNext = false;
  async start(runId: string) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error("Step Functions is unavailable");
    }
    if (!this.started.includes(runId)) this.started.push(runId);
    return `${EXECUTION_ARN_PREFIX}${runId}`;
  }
  async status(executionArn: string): Promise<ExecutionStatus> {
    const runId = executionArn.slice(EXECUTION_ARN_PREFIX.length);
    if (!this.started.includes(runId)) return "GONE";
    return this.ended.get(runId) ?? "RUNNING";
  }
  /** The execution stops without its run hearing of it, as an aborted or crashed one does. */
  end(runId: string, status: ExecutionStatus) {
    this.ended.set(runId, status);
  }
}

const EXECUTION_ARN_PREFIX = "arn:aws:states:us-east-1:000000000000:execution:pipeline:";

export class MemoryApps implements AppRepository {
  readonly items = new Map<string, App>();
  async get(name: string) {
    return this.items.get(name);
  }
  async put(app: App) {
    this.items.set(app.name, app);
  }
}

/** A clock that moves one millisecond a reading, so every run has its own creation time. */
export function steppingClock(start = Date.parse("2026-01-01T00:00:00Z")): Clock {
  let t = start;
  return { now: () => new Date(t++) };
}
