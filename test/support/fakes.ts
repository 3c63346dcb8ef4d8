import { type App, PipelineDefinitionSchema } from "../../domain/app";
import { ConflictError } from "../../domain/errors";
import type { Freeze, GroupLock } from "../../domain/holds";
import { ClaimTakenError, type IntakeClaim, type TakenClaim } from "../../domain/intake-claims";
import type { LifecycleEvent } from "../../domain/lifecycle-events";
import type {
  AlarmState,
  Alarms,
  AlarmWatch,
  AlarmWatches,
  AppRepository,
  Clock,
  DeploymentRequest,
  DeploymentState,
  Deployments,
  DeploymentWait,
  DeploymentWaits,
  EventPublisher,
  ExecutionEnd,
  ExecutionStatus,
  Freezes,
  GroupKey,
  GroupLocks,
  HoldWatch,
  HoldWatches,
  PipelineEngine,
  QueuedRun,
  RunQueue,
  RunRepository,
} from "../../domain/ports";
import type { BundleRevision, Revision } from "../../domain/revision";
import {
  type HostResult,
  type Run,
  type RunTrigger,
  type RunView,
  type StepRecord,
  stagesOf,
} from "../../domain/run";
import type { RunTransition } from "../../domain/steps";
import { admitRun, type QueuePorts } from "../../usecases/run-queue";
import { recordRun } from "../../usecases/start-run";

/** In-memory ports with the same conditions as the DynamoDB adapters, for use-case tests. */
export class MemoryRuns implements RunRepository {
  readonly items = new Map<string, Run>();
  readonly steps = new Map<string, StepRecord[]>();
  readonly tokens = new Map<string, string>();
  /** Every event written with a run's change, in order: what the outbox would publish. */
  readonly outbox: LifecycleEvent[] = [];
  /** The intakes' claims, by what they claim, as they were made. */
  readonly claims = new Map<string, TakenClaim>();

  /** Where the waits and watches a change carries go, as the table holds them beside the run. */
  constructor(
    readonly waits = new MemoryDeploymentWaits(),
    readonly watches = new MemoryAlarmWatches(),
  ) {}

  async create(run: Run, events: readonly LifecycleEvent[], claims: readonly IntakeClaim[] = []) {
    if (this.items.has(run.id)) throw new ConflictError(`run ${run.id} already exists`);
    for (const claim of claims) {
      const taken = this.claims.get(claimKey(claim));
      if (taken) throw new ClaimTakenError(taken);
    }
    for (const claim of claims) this.claims.set(claimKey(claim), takenOf(claim));
    this.items.set(run.id, structuredClone(run));
    this.steps.set(run.id, []);
    this.outbox.push(...events);
  }
  async get(runId: string): Promise<RunView | undefined> {
    const run = this.items.get(runId);
    if (!run) return undefined;
    const steps = structuredClone(this.steps.get(runId) ?? []);
    return { ...structuredClone(run), steps, stages: stagesOf(steps) };
  }
  async apply(runId: string, t: RunTransition, now: string) {
    const run = this.items.get(runId);
    if (!run) throw new ConflictError(`run ${runId} does not exist`);
    const { status, cursor, attempt, rollbackPosition } = t.expect;
    if (
      !status.includes(run.status) ||
      (cursor !== undefined && run.cursor !== cursor) ||
      (attempt !== undefined && run.attempt !== attempt) ||
      (rollbackPosition !== undefined && (run.rollback?.position ?? -1) !== rollbackPosition)
    ) {
      throw new ConflictError(`run ${runId} changed meanwhile`);
    }
    const guard = t.expect.step;
    const guarded = guard
      ? this.steps.get(runId)?.find((s) => s.index === guard.index && s.attempt === guard.attempt)
      : undefined;
    if (guard && (guarded?.version ?? 0) !== guard.version) {
      throw new ConflictError(`step ${guard.index} of run ${runId} changed meanwhile`);
    }
    for (const [field, value] of Object.entries(t.set)) {
      if (value !== undefined) Object.assign(run, { [field]: structuredClone(value) });
    }
    for (const field of t.remove ?? []) delete run[field];
    run.updatedAt = now;
    const steps = this.steps.get(runId) ?? [];
    for (const step of t.steps) {
      const i = steps.findIndex((s) => s.index === step.index && s.attempt === step.attempt);
      if (i >= 0) steps[i] = structuredClone(step);
      else steps.push(structuredClone(step));
    }
    this.steps.set(runId, steps);
    this.outbox.push(...t.events);
    for (const wait of t.waits ?? []) await this.waits.put(wait);
    await this.watches.put(t.watches ?? []);
    for (const r of t.releases ?? []) {
      this.groups.set(`${r.app}#${r.application}#${r.deploymentGroup}`, r.revision);
    }
  }
  readonly groups = new Map<string, BundleRevision>();
  async lastGoodRevision(app: string, application: string, deploymentGroup: string) {
    return this.groups.get(`${app}#${application}#${deploymentGroup}`);
  }
  async putTaskToken(runId: string, index: number, attempt: number, token: string) {
    this.tokens.set(`${runId}#${index}#${attempt}`, token);
  }
  async taskToken(runId: string, index: number, attempt: number) {
    return this.tokens.get(`${runId}#${index}#${attempt}`);
  }
}

/** What a claim claims: a delivery id, a body, an app version. */
export function claimKey(claim: IntakeClaim): string {
  switch (claim.kind) {
    case "delivery": {
      const { app, provider, deliveryId } = claim.delivery;
      return `delivery#${app}#${provider}#${deliveryId}`;
    }
    case "payload": {
      const { app, provider, payloadSha256 } = claim.delivery;
      return `payload#${app}#${provider}#${payloadSha256}`;
    }
    case "release":
      return `release#${claim.release.app}#${claim.release.version}`;
  }
}

function takenOf(claim: IntakeClaim): TakenClaim {
  switch (claim.kind) {
    case "delivery":
      return { kind: "delivery", holder: claim.delivery };
    case "payload":
      return { kind: "payload", holder: claim.delivery };
    case "release":
      return { kind: "release", holder: claim.release };
  }
}

/**
 * A run recorded and then let in, as the intake and the stream's admitRuns do it one after the
 * other; the run as it is then.
 */
export async function startRun(
  ports: QueuePorts,
  app: App,
  revision: Revision,
  trigger: RunTrigger,
): Promise<Run> {
  const run = await recordRun(ports, app, revision, trigger);
  await admitRun(ports, run);
  return (await ports.runs.get(run.id)) ?? run;
}

export class MemoryQueue implements RunQueue {
  readonly waitingRuns = new Map<string, QueuedRun[]>();
  readonly slots = new Map<string, string>();

  async enqueue(app: string, run: QueuedRun) {
    const list = [...(this.waitingRuns.get(app) ?? []), run];
    list.sort((a, b) => `${a.createdAt}#${a.runId}`.localeCompare(`${b.createdAt}#${b.runId}`));
    this.waitingRuns.set(app, list);
  }
  async waiting(app: string, limit?: number) {
    return (this.waitingRuns.get(app) ?? []).slice(0, limit);
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
  readonly callbacks: { token: string; output?: unknown; error?: string; cause?: string }[] = [];
  private readonly ended = new Map<string, ExecutionStatus>();
  failNext = false;
  arnOf(runId: string) {
    return `${EXECUTION_ARN_PREFIX}${runId}`;
  }
  async start(runId: string) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error("Step Functions is unavailable");
    }
    if (!this.started.includes(runId)) this.started.push(runId);
    return this.arnOf(runId);
  }
  async status(executionArn: string): Promise<ExecutionStatus> {
    return (await this.describe(executionArn)).status;
  }
  async describe(executionArn: string): Promise<ExecutionEnd> {
    const runId = executionArn.slice(EXECUTION_ARN_PREFIX.length);
    if (!this.started.includes(runId)) return { status: "GONE" };
    return { status: this.ended.get(runId) ?? "RUNNING" };
  }
  async stop(executionArn: string) {
    this.ended.set(executionArn.slice(EXECUTION_ARN_PREFIX.length), "ABORTED");
  }
  async redrive(executionArn: string) {
    const runId = executionArn.slice(EXECUTION_ARN_PREFIX.length);
    const status = this.ended.get(runId);
    if (!status || status === "SUCCEEDED") {
      throw new ConflictError(`execution of ${runId} is not redrivable`);
    }
    this.ended.delete(runId);
  }
  // Every answer sent is in `callbacks`; as in Step Functions, only a token's first is taken.
  async succeedTask(token: string, output: unknown) {
    this.callbacks.push({ token, output });
    this.answer(token);
  }
  async failTask(token: string, error: string, cause: string) {
    this.callbacks.push({ token, error, cause });
    this.answer(token);
  }
  /** A token is good for one answer: its task no longer waits after it. */
  private answer(token: string) {
    if (this.answered.has(token)) throw new ConflictError(`task ${token} no longer waits`);
    this.answered.add(token);
  }
  private readonly answered = new Set<string>();
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

/** CodeDeploy as a deploy step sees it: deployments made, and how a test says they ended. */
export class MemoryDeployments implements Deployments {
  readonly created: DeploymentRequest[] = [];
  readonly states = new Map<string, DeploymentState>();
  readonly hostResults = new Map<string, HostResult[]>();
  /** The deployments GetDeployment was asked for, in order. */
  readonly stateReads: string[] = [];
  async create(request: DeploymentRequest) {
    this.created.push(request);
    const deploymentId = `d-${String(this.created.length).padStart(9, "0")}`;
    this.states.set(deploymentId, {
      deploymentId,
      deploymentGroup: request.deploymentGroup,
      status: "InProgress",
    });
    return deploymentId;
  }
  async stop(deploymentId: string) {
    const state = this.states.get(deploymentId);
    if (state && state.status === "InProgress") this.end(deploymentId, "Stopped", []);
  }
  async state(deploymentId: string) {
    this.stateReads.push(deploymentId);
    const state = this.states.get(deploymentId);
    if (!state) throw new Error(`no deployment ${deploymentId}`);
    return state;
  }
  async hosts(deploymentId: string) {
    return this.hostResults.get(deploymentId) ?? [];
  }
  end(deploymentId: string, status: string, hosts: HostResult[], error?: string) {
    const state = this.states.get(deploymentId);
    if (!state) throw new Error(`no deployment ${deploymentId}`);
    this.states.set(deploymentId, { ...state, status, ...(error ? { error } : {}) });
    this.hostResults.set(deploymentId, hosts);
  }
}

export class MemoryDeploymentWaits implements DeploymentWaits {
  readonly items = new Map<string, DeploymentWait>();
  async put(wait: DeploymentWait) {
    this.items.set(wait.deploymentId, wait);
  }
  async get(deploymentId: string) {
    return this.items.get(deploymentId);
  }
}

export class MemoryAlarms implements Alarms {
  readonly stateOf = new Map<string, AlarmState>();
  async states(names: readonly string[]) {
    return new Map(
      names.flatMap((n) => {
        const state = this.stateOf.get(n);
        return state ? [[n, state] as const] : [];
      }),
    );
  }
}

export class MemoryAlarmWatches implements AlarmWatches {
  readonly items: AlarmWatch[] = [];
  async put(watches: readonly AlarmWatch[]) {
    for (const w of watches) {
      const at = this.items.findIndex((x) => sameWatch(x, w));
      if (at >= 0) this.items[at] = w;
      else this.items.push(w);
    }
  }
  async of(alarm: string) {
    return this.items.filter((w) => w.alarm === alarm);
  }
  async remove(watch: AlarmWatch) {
    const at = this.items.findIndex((x) => sameWatch(x, watch));
    if (at >= 0) this.items.splice(at, 1);
  }
}

function sameWatch(a: AlarmWatch, b: AlarmWatch): boolean {
  return (
    a.alarm === b.alarm &&
    a.runId === b.runId &&
    a.index === b.index &&
    a.attempt === b.attempt &&
    a.kind === b.kind
  );
}

export class MemoryFreezes implements Freezes {
  readonly items = new Map<string, Freeze>();
  async get(app: string) {
    return this.items.get(app);
  }
  async put(freeze: Freeze) {
    this.items.set(freeze.app, freeze);
  }
  async lift(app: string) {
    const freeze = this.items.get(app);
    this.items.delete(app);
    return freeze;
  }
}

const groupId = (g: GroupKey) => `${g.application}/${g.deploymentGroup}`;

/** Leases with the DynamoDB adapter's conditions. */
export class MemoryGroupLocks implements GroupLocks {
  readonly items = new Map<string, GroupLock>();
  async get(group: GroupKey) {
    return this.items.get(groupId(group));
  }
  async acquire(lock: GroupLock, now: string) {
    const held = this.items.get(groupId(lock));
    if (held && held.holder !== lock.holder && held.leaseUntil >= now) {
      return { taken: false as const, by: held };
    }
    this.items.set(groupId(lock), lock);
    return { taken: true as const };
  }
  async renew(group: GroupKey, holder: string, leaseUntil: string, deploymentId?: string) {
    const held = this.items.get(groupId(group));
    if (held?.holder !== holder) return false;
    this.items.set(groupId(group), {
      ...held,
      leaseUntil,
      ...(deploymentId ? { deploymentId } : {}),
    });
    return true;
  }
  async release(group: GroupKey, holder: string) {
    if (this.items.get(groupId(group))?.holder === holder) this.items.delete(groupId(group));
  }
  async watch(group: GroupKey, holder: string) {
    return this.items.get(groupId(group))?.holder === holder;
  }
}

export class MemoryHoldWatches implements HoldWatches {
  readonly items = new Map<string, HoldWatch[]>();
  async put(on: string, watch: HoldWatch) {
    const rest = (this.items.get(on) ?? []).filter((w) => !sameHold(w, watch));
    this.items.set(on, [...rest, watch]);
  }
  async of(on: string) {
    return this.items.get(on) ?? [];
  }
  async remove(on: string, watch: HoldWatch) {
    this.items.set(
      on,
      (this.items.get(on) ?? []).filter((w) => !sameHold(w, watch)),
    );
  }
}

function sameHold(a: HoldWatch, b: HoldWatch): boolean {
  return a.runId === b.runId && a.index === b.index && a.attempt === b.attempt;
}

/** Every in-memory port a use-case test of the pipeline works with, fresh. */
export function memoryPorts() {
  const waits = new MemoryDeploymentWaits();
  const watches = new MemoryAlarmWatches();
  return {
    apps: new MemoryApps(),
    runs: new MemoryRuns(waits, watches),
    queue: new MemoryQueue(),
    executions: new MemoryExecutions(),
    deployments: new MemoryDeployments(),
    waits,
    alarms: new MemoryAlarms(),
    watches,
    freezes: new MemoryFreezes(),
    holds: new MemoryHoldWatches(),
    locks: new MemoryGroupLocks(),
    leaseSeconds: 300,
    clock: steppingClock() as Clock,
  };
}

/** Registers app `shop` (or `name`) with a definition as the API would validate it. */
export async function registerApp(
  apps: MemoryApps,
  definition: unknown,
  name = "shop",
): Promise<App> {
  const at = "2026-01-01T00:00:00.000Z";
  const app: App = {
    name,
    pipeline: PipelineDefinitionSchema.parse(definition),
    createdAt: at,
    updatedAt: at,
  };
  await apps.put(app);
  return app;
}
