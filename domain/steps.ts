import type { AuditAction } from "./audit";
import { type BuildBundleLocation, buildBundleOutput } from "./build-bundle";
import { type BuildPlan, planBuild, planTests } from "./buildspec";
import { parseReleaseKey } from "./bundles/release-key";
import { ConflictError } from "./errors";
import type { LifecycleEvent } from "./lifecycle-events";
import type { PlanStep } from "./plan";
import type { AlarmWatch, DeploymentWait } from "./ports";
import {
  type BundleRevision,
  BundleRevisionSchema,
  describeRevision,
  type Revision,
  RevisionSchema,
} from "./revision";
import {
  ApprovalDecisionSchema,
  DeploymentResultSchema,
  isTerminal,
  type OperatorAction,
  type Run,
  type RunError,
  type RunStatus,
  type RunView,
  type StageStatus,
  type StepRecord,
} from "./run";
import { waveClosed, waveEntered } from "./wave-events";
import * as z from "./zod";

/**
 * One conditional change to a run, written at once with the step records and lifecycle events
 * that go with it (one transaction), so a step never happens without its record and its event.
 */
export interface RunTransition {
  /** The write applies only while the run still is as it was read. */
  expect: {
    status: readonly RunStatus[];
    cursor?: number;
    attempt?: number;
    /** The rollback's position; -1 for a run not rolling back yet. */
    rollbackPosition?: number;
    /** A step record written only if it is still at the version read (0: never guarded yet). */
    step?: { index: number; attempt: number; version: number };
  };
  set: Partial<
    Pick<
      Run,
      | "status"
      | "startedAt"
      | "endedAt"
      | "error"
      | "cursor"
      | "attempt"
      | "revision"
      | "stopRequest"
      | "retries"
      | "rollback"
      | "executionMode"
    >
  >;
  remove?: readonly ("endedAt" | "error" | "stopRequest")[];
  steps: readonly StepRecord[];
  events: readonly LifecycleEvent[];
  /** Deployment groups that now run a revision that succeeded there: what a rollback returns to. */
  releases?: readonly GroupRelease[];
  /** Operator actions the change carries out, for the audit trail (written with it). */
  audit?: readonly AuditAction[];
  /** An approval link this change uses up: the write fails if it was used already. */
  spendsLink?: { tokenHash: string; at: string };
  /** Deployments a step now waits on, kept with the change that records them. */
  waits?: readonly DeploymentWait[];
  /** Alarms a step now watches, kept with the change that records them. */
  watches?: readonly AlarmWatch[];
}

export interface GroupRelease {
  app: string;
  application: string;
  deploymentGroup: string;
  revision: BundleRevision;
}

/** What the state machine does next: the step it enters, or the end of the run. */
export type StepTask =
  | { kind: "source"; index: number; attempt: number; id: string; revision: Revision }
  | {
      kind: "build";
      index: number;
      attempt: number;
      id: string;
      build: BuildPlan;
      /** Where the build's bundle goes, for a build that makes the run's bundle. */
      bundle?: BuildBundleLocation;
    }
  | { kind: "test"; index: number; attempt: number; id: string; build: BuildPlan }
  | { kind: "wait"; index: number; attempt: number; id: string; until: string }
  | { kind: "approval"; index: number; attempt: number; id: string; timeoutSeconds: number }
  | { kind: "deploy"; index: number; attempt: number; id: string; timeoutSeconds: number }
  | { kind: "bake"; index: number; attempt: number; id: string; seconds: number }
  | { kind: "done" }
  | { kind: "failed"; error: string; cause: string };

/** What walking a plan needs to know of the stack: where builds leave their bundles. */
export interface StackPlaces {
  releasesBucket: string;
}

/** A step the state machine has finished, and what its task returned. */
export interface FinishedStep {
  index: number;
  result?: unknown;
}

/**
 * Walks a run's plan one step: closes the step the state machine finished, skips what the plan
 * says to skip, and enters the next step, or ends the run after the last. Called again for a
 * step it already moved past (a retried task), it changes nothing and answers the same.
 */
export function advance(
  run: RunView,
  finished: FinishedStep | null,
  now: string,
  stack?: StackPlaces,
): { transition?: RunTransition; task: StepTask } {
  if (run.status === "SUCCEEDED" && finished) return { task: { kind: "done" } };
  if (run.status !== "RUNNING" && run.status !== "QUEUED") {
    throw new ConflictError(`run ${run.id} has ended (status ${run.status})`);
  }
  // Only the step's place counts: a step redriven as a new attempt still finishes that step.
  const moved = finished ? finished.index !== run.cursor : run.cursor >= 0;
  if (moved) return { task: taskAt(run, run.cursor, stack) };

  const events: LifecycleEvent[] = [];
  const steps: StepRecord[] = [];
  const releases: GroupRelease[] = [];
  const set: RunTransition["set"] = {};
  const expect = {
    status: [run.status],
    cursor: run.cursor,
    attempt: run.attempt,
  } satisfies RunTransition["expect"];
  let revision = run.revision;
  if (!finished) {
    set.status = "RUNNING";
    set.startedAt = run.startedAt ?? now;
    events.push(runEvent(run, "Run Started", "RUNNING", now));
    if (run.kind === "rollback") events.push(namedRollbackStarted(run, now));
  } else {
    const open = openStep(run);
    const closed = close(open, finished.result, now, run.revision);
    if (closed.revision) {
      revision = closed.revision;
      set.revision = revision;
    }
    const deployed = run.plan.steps[run.cursor];
    if (deployed?.kind === "deploy" && revision.type === "bundle") {
      releases.push({
        app: run.app,
        application: deployed.application,
        deploymentGroup: deployed.deploymentGroup,
        revision,
      });
    }
    steps.push(closed.record);
    events.push(stageEvent({ ...run, revision }, "Stage Succeeded", closed.record, now));
    const waveDone = waveClosed({ ...run, revision }, run.cursor, now);
    if (waveDone) events.push(waveDone);
  }
  const viewed = { ...run, revision, status: "RUNNING" as const };
  for (let index = run.cursor + 1; ; index++) {
    const step = run.plan.steps[index];
    if (!step) {
      set.status = "SUCCEEDED";
      set.endedAt = now;
      set.cursor = index;
      events.push(runEvent(viewed, "Run Succeeded", "SUCCEEDED", now));
      return { transition: { expect, set, steps, events, releases }, task: { kind: "done" } };
    }
    const base = { step: step.id, kind: step.kind, index, attempt: run.attempt, startedAt: now };
    if (step.kind === "build" && step.skip) {
      const skipped: StepRecord = { ...base, status: "SKIPPED", endedAt: now, message: step.skip };
      steps.push(skipped);
      events.push(stageEvent(viewed, "Stage Skipped", skipped, now));
      continue;
    }
    set.cursor = index;
    const refusal =
      step.kind === "build" && !step.repository
        ? `nothing to clone for run ${run.id}: set repository in the pipeline definition of ${run.app}`
        : step.kind === "deploy" && revision.type !== "bundle"
          ? `run ${run.id} has no bundle to deploy: Sluice deploys release bundles, so release the revision as a bundle or give ${run.app} a build that makes one`
          : undefined;
    if (refusal) {
      const cause = refusal;
      const error: RunError = { error: "Sluice.InvalidInput", cause };
      const failed: StepRecord = { ...base, status: "FAILED", endedAt: now, message: cause };
      steps.push(failed);
      events.push(stageEvent(viewed, "Stage Failed", failed, now));
      Object.assign(set, { status: "FAILED", endedAt: now, error });
      events.push(runEvent({ ...viewed, error }, "Run Failed", "FAILED", now));
      return {
        transition: { expect, set, steps, events },
        task: { kind: "failed", error: error.error, cause },
      };
    }
    const until =
      step.kind === "wait"
        ? new Date(Date.parse(now) + step.seconds * 1000).toISOString()
        : undefined;
    const entered: StepRecord = { ...base, status: "RUNNING", ...(until ? { until } : {}) };
    steps.push(entered);
    events.push(stageEvent(viewed, "Stage Started", entered, now));
    const wave = waveEntered(viewed, index, now);
    if (wave) events.push(wave);
    return {
      transition: { expect, set, steps, events, releases },
      task: taskFor(step, index, run.attempt, revision, run, until, stack),
    };
  }
}

/**
 * Ends a run that did not end itself: its execution failed, timed out or was stopped, or it
 * never started. The step it was in ends with it.
 */
export function endTransition(
  run: RunView,
  status: "FAILED" | "STOPPED" | "SUPERSEDED",
  error: RunError,
  now: string,
): RunTransition {
  const open = run.steps.find(
    (s) => s.index === run.cursor && s.attempt === run.attempt && s.status === "RUNNING",
  );
  const stepStatus: StageStatus = status === "STOPPED" ? "STOPPED" : "FAILED";
  const ended: StepRecord | undefined = open
    ? { ...open, status: stepStatus, endedAt: now, message: `${error.error}: ${error.cause}` }
    : undefined;
  const detailType =
    status === "FAILED" ? "Run Failed" : status === "STOPPED" ? "Run Stopped" : "Run Superseded";
  const detail = { ...runDetail(run, status, now), error };
  return {
    expect: { status: ["QUEUED", "RUNNING"] },
    set: {
      status,
      endedAt: now,
      error,
      ...(status === "STOPPED" && run.stopRequest ? { stopRequest: run.stopRequest } : {}),
    },
    steps: ended ? [ended] : [],
    events: [
      ...(ended ? [stageEvent(run, "Stage Failed", ended, now)] : []),
      detailType === "Run Stopped"
        ? {
            detailType,
            detail: {
              ...detail,
              action: run.stopRequest ?? { by: "unknown", at: now },
            },
          }
        : { detailType, detail },
    ],
  };
}

/**
 * Records who asked to stop a running run, and why, before its execution is stopped; the audit
 * trail keeps the request, whether the run then ends STOPPED or rolls back.
 */
export function stopRequested(run: Run, action: OperatorAction): RunTransition {
  return {
    expect: { status: ["RUNNING"] },
    set: { stopRequest: action },
    steps: [],
    events: [],
    audit: [{ app: run.app, runId: run.id, type: "stop", ...action }],
  };
}

/**
 * A failed or stopped run goes on from the step it ended in, as a new attempt: the run is
 * RUNNING again and that step has a record of its own for the attempt.
 */
export function retryTransition(run: RunView, action: OperatorAction): RunTransition {
  if (run.status !== "FAILED" && run.status !== "STOPPED") {
    throw new ConflictError(
      `run ${run.id} is ${run.status}: only a FAILED or STOPPED run can be retried`,
    );
  }
  const attempt = run.attempt + 1;
  const now = action.at;
  const step = run.plan.steps[run.cursor];
  const steps: StepRecord[] = [];
  const events: LifecycleEvent[] = [];
  const viewed = { ...run, attempt, status: "RUNNING" as const };
  events.push({
    detailType: "Run Redriven",
    detail: { ...runDetail(viewed, "RUNNING", now), action },
  });
  if (step) {
    const previous = run.steps.find((s) => s.index === run.cursor && s.attempt === run.attempt);
    const until =
      step.kind === "wait"
        ? new Date(Date.parse(now) + step.seconds * 1000).toISOString()
        : undefined;
    const entered: StepRecord = {
      step: step.id,
      kind: step.kind,
      index: run.cursor,
      attempt,
      status: "RUNNING",
      startedAt: now,
      ...(until ? { until } : previous?.until ? { until: previous.until } : {}),
    };
    steps.push(entered);
    events.push(stageEvent(viewed, "Stage Started", entered, now));
    const wave = waveEntered(viewed, run.cursor, now);
    if (wave) events.push(wave);
  }
  return {
    expect: { status: [run.status], attempt: run.attempt },
    set: { status: "RUNNING", attempt, retries: [...run.retries, { ...action, attempt }] },
    remove: ["endedAt", "error", "stopRequest"],
    steps,
    events,
  };
}

/** The record of the step the run is in now. */
export function openStep(run: RunView): StepRecord | undefined {
  return run.steps.find((s) => s.index === run.cursor && s.attempt === run.attempt);
}

const BuildResultSchema = z.object({ id: z.string(), logs: z.optional(z.string()) });

/** A build that made the run's bundle, with the bundle as pinned after its checks. */
const BundleBuildResultSchema = z.object({
  ...BuildResultSchema.shape,
  bundle: z.optional(BundleRevisionSchema),
});

function close(
  open: StepRecord | undefined,
  result: unknown,
  now: string,
  built: Revision,
): { record: StepRecord; revision?: Revision } {
  if (!open) throw new ConflictError("the step the pipeline finished has no record");
  const record: StepRecord = { ...open, status: "SUCCEEDED", endedAt: now };
  switch (open.kind) {
    case "source": {
      const revision = RevisionSchema.parse(result);
      return { record: { ...record, message: `pinned ${describeRevision(revision)}` }, revision };
    }
    case "build": {
      const build = BundleBuildResultSchema.parse(result);
      const logs = build.logs ? `; logs at ${build.logs}` : "";
      const message = `build ${build.id} succeeded${logs}`;
      if (!build.bundle || built.type !== "git") return { record: { ...record, message } };
      // From here on the run deploys the bundle; it still names the commit it was built from.
      const revision: Revision = { ...build.bundle, source: built };
      return {
        record: { ...record, message: `${message}; bundle ${describeRevision(revision)}` },
        revision,
      };
    }
    case "approval": {
      const decision = ApprovalDecisionSchema.parse(result);
      const comment = decision.comment ? `: ${decision.comment}` : "";
      return {
        record: { ...record, approval: decision, message: `approved by ${decision.by}${comment}` },
      };
    }
    case "deploy": {
      const deployment = DeploymentResultSchema.parse(result);
      return {
        record: {
          ...record,
          deployment,
          message: `deployment ${deployment.deploymentId} to ${deployment.deploymentGroup}: ${describeHosts(deployment.hosts)}`,
        },
      };
    }
    case "test": {
      const build = BuildResultSchema.parse(result);
      const logs = build.logs ? `; logs at ${build.logs}` : "";
      return { record: { ...record, message: `tests passed (build ${build.id})${logs}` } };
    }
    default:
      return { record };
  }
}

function taskAt(run: RunView, index: number, stack: StackPlaces | undefined): StepTask {
  const step = run.plan.steps[index];
  if (!step) {
    if (run.status === "SUCCEEDED") return { kind: "done" };
    throw new ConflictError(`run ${run.id} has no step ${index}`);
  }
  const record = run.steps.find((s) => s.index === index && s.attempt === run.attempt);
  return taskFor(step, index, run.attempt, run.revision, run, record?.until, stack);
}

function taskFor(
  step: PlanStep,
  index: number,
  attempt: number,
  revision: Revision,
  run: Run,
  until: string | undefined,
  stack: StackPlaces | undefined,
): StepTask {
  const base = { index, attempt, id: step.id };
  switch (step.kind) {
    case "source":
      return { ...base, kind: "source", revision };
    case "build": {
      if (!step.build || !step.repository || revision.type !== "git") {
        throw new ConflictError(`run ${run.id} has nothing to build`);
      }
      if (step.build.artifacts && !stack) {
        throw new Error(`run ${run.id}'s build makes a bundle, and no releases bucket is known`);
      }
      const output =
        step.build.artifacts && stack
          ? buildBundleOutput(stack.releasesBucket, run.app, run.id)
          : undefined;
      return {
        ...base,
        kind: "build",
        build: planBuild(step.build, revision, step.repository, run.id, output?.override),
        ...(output ? { bundle: output.location } : {}),
      };
    }
    case "wait":
      return { ...base, kind: "wait", until: until ?? new Date().toISOString() };
    case "approval":
      return { ...base, kind: "approval", timeoutSeconds: step.timeoutSeconds };
    case "deploy":
      return { ...base, kind: "deploy", timeoutSeconds: step.timeoutSeconds };
    case "test":
      // Tests run as a build does, in a state of their own whose failure rolls the run back.
      return {
        ...base,
        kind: "test",
        build: planTests(step.tests, {
          SLUICE_RUN_ID: run.id,
          SLUICE_APP: run.app,
          SLUICE_STAGE: step.id.split("/")[0] ?? step.id,
          SLUICE_DEPLOYMENT_GROUP: step.deploymentGroup,
        }),
      };
    case "bake":
      return { ...base, kind: "bake", seconds: step.seconds };
  }
}

function describeHosts(hosts: readonly { status: string }[]): string {
  const counts = new Map<string, number>();
  for (const host of hosts) counts.set(host.status, (counts.get(host.status) ?? 0) + 1);
  const parts = [...counts].map(([status, n]) => `${n} ${status.toLowerCase()}`);
  return parts.length ? parts.join(", ") : "no hosts";
}

/** What every run event says of its run. */
export function runDetail(run: Run, status: RunStatus, at: string) {
  return {
    runId: run.id,
    app: run.app,
    status,
    revision: run.revision,
    at,
    attempt: run.attempt,
    ...(run.kind ? { kind: run.kind } : {}),
    ...(run.error ? { error: run.error } : {}),
  };
}

/** A rollback to a named release begins: the waves it goes through, who asked, and why. */
function namedRollbackStarted(run: Run, at: string): LifecycleEvent {
  const version =
    run.revision.type === "bundle"
      ? (parseReleaseKey(run.revision.key)?.version ?? run.revision.key)
      : run.revision.commit;
  return {
    detailType: "Rollback Started",
    detail: {
      ...runDetail(run, "RUNNING", at),
      stages: run.plan.steps.filter((step) => step.kind === "deploy").map((step) => step.id),
      requested: {
        version,
        ...(run.trigger.by ? { by: run.trigger.by } : {}),
        ...(run.trigger.reason ? { reason: run.trigger.reason } : {}),
        bake: run.plan.steps.some((step) => step.kind === "bake"),
      },
    },
  };
}

function runEvent(
  run: Run,
  detailType: "Run Started" | "Run Succeeded" | "Run Failed",
  status: RunStatus,
  at: string,
): LifecycleEvent {
  return { detailType, detail: runDetail(run, status, at) };
}

/** A stage's event: the run, and the step record it is about. */
export function stageEvent(
  run: Run,
  detailType: "Stage Started" | "Stage Succeeded" | "Stage Failed" | "Stage Skipped",
  step: StepRecord,
  at: string,
): LifecycleEvent {
  return {
    detailType,
    detail: {
      ...runDetail(run, isTerminal(run.status) ? run.status : "RUNNING", at),
      stage: step.step,
      stageStatus: step.status,
      ...(step.message ? { message: step.message } : {}),
      ...(step.until ? { until: step.until } : {}),
    },
  };
}
