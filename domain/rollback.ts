import { ConflictError } from "./errors";
import type { LifecycleEvent } from "./lifecycle-events";
import { describeRevision } from "./revision";
import { DeploymentResultSchema, type RunError, type RunView, type StepRecord } from "./run";
import { type RunTransition, runDetail, stageEvent } from "./steps";

/** What the state machine does next while a run rolls back. */
export type RollbackTask =
  | { kind: "rollback"; index: number; attempt: number; id: string; timeoutSeconds: number }
  | { kind: "rolledBack" };

/**
 * A deploy, test or bake step failed for good: the run rolls back. Every group this attempt
 * deployed to goes back to the revision that last succeeded there, newest first; a group that
 * had none (its first deployment) is said to have nothing to roll back to, and is left as it is.
 */
export function beginRollback(
  run: RunView,
  cause: RunError,
  now: string,
): { transition?: RunTransition; task: RollbackTask } {
  if (run.rollback) return { task: currentTask(run) };
  if (run.status !== "RUNNING") {
    throw new ConflictError(`run ${run.id} cannot roll back: it is ${run.status}`);
  }
  const failed = run.steps.find((s) => s.index === run.cursor && s.attempt === run.attempt);
  const targets = run.steps
    .filter((s) => s.attempt === run.attempt && s.kind === "deploy" && s.deploymentId)
    .map((s) => s.index)
    .sort((a, b) => b - a);
  const steps: StepRecord[] = failed
    ? [{ ...failed, status: "FAILED", endedAt: now, message: `${cause.error}: ${cause.cause}` }]
    : [];
  const events: LifecycleEvent[] = [
    ...(failed ? [stageEvent(run, "Stage Failed", steps[0] as StepRecord, now)] : []),
    {
      detailType: "Rollback Started",
      detail: {
        ...runDetail(run, run.status, now),
        error: cause,
        stages: targets.map((i) => stepId(run, i)),
      },
    },
  ];
  const rollback = { cause, targets, position: 0 };
  return advanceRollback({ ...run, rollback }, steps, events, { rollback }, now, -1);
}

/** A rollback deployment ended well: on to the next group, or the run has rolled back. */
export function continueRollback(
  run: RunView,
  index: number,
  result: unknown,
  now: string,
): { transition?: RunTransition; task: RollbackTask } {
  const rollback = run.rollback;
  if (!rollback) throw new ConflictError(`run ${run.id} is not rolling back`);
  if (rollback.targets[rollback.position] !== index) return { task: currentTask(run) };
  const record = recordOf(run, index);
  const deployment = DeploymentResultSchema.parse(result);
  const done: StepRecord = {
    ...record,
    rollback: {
      status: "SUCCEEDED",
      deploymentId: deployment.deploymentId,
      message: `rolled back to ${describeRevision(record.previousRevision ?? run.revision)} by deployment ${deployment.deploymentId}`,
    },
  };
  const moved = { ...rollback, position: rollback.position + 1 };
  const next = advanceRollback(
    { ...run, rollback: moved },
    [done],
    [],
    { rollback: moved },
    now,
    rollback.position,
  );
  // The group runs its earlier revision again: that is now the one a later rollback goes back to.
  const target = run.plan.steps[index];
  if (target?.kind === "deploy" && record.previousRevision) {
    next.transition.releases = [
      {
        app: run.app,
        application: target.application,
        deploymentGroup: target.deploymentGroup,
        revision: record.previousRevision,
      },
    ];
  }
  return next;
}

function advanceRollback(
  run: RunView,
  steps: StepRecord[],
  events: LifecycleEvent[],
  set: RunTransition["set"],
  now: string,
  position: number,
): { transition: RunTransition; task: RollbackTask } {
  const rollback = run.rollback;
  if (!rollback) throw new ConflictError(`run ${run.id} is not rolling back`);
  const expect: RunTransition["expect"] = {
    status: ["RUNNING"],
    attempt: run.attempt,
    rollbackPosition: position,
  };
  for (let at = rollback.position; at < rollback.targets.length; at++) {
    const index = rollback.targets[at] as number;
    const record = pending(steps, recordOf(run, index));
    const target = run.plan.steps[index];
    const group = target?.kind === "deploy" ? target.deploymentGroup : "its group";
    if (!record.previousRevision) {
      upsert(steps, {
        ...record,
        rollback: {
          status: "SKIPPED",
          message: `nothing to roll back to: this was the first deployment to ${group}`,
        },
      });
      continue;
    }
    upsert(steps, {
      ...record,
      rollback: {
        status: "RUNNING",
        message: `rolling back to ${describeRevision(record.previousRevision)}`,
      },
    });
    set.rollback = { ...rollback, position: at };
    return {
      transition: { expect, set, steps, events },
      task: rollbackTask(run, index),
    };
  }
  set.rollback = { ...rollback, position: rollback.targets.length };
  Object.assign(set, { status: "ROLLED_BACK", endedAt: now, error: rollback.cause });
  // How each group went back, as its record now says, so the trail tells it too.
  const rollbacks = rollback.targets.flatMap((index) => {
    const done = pending(steps, recordOf(run, index)).rollback;
    if (done?.status !== "SUCCEEDED" && done?.status !== "SKIPPED") return [];
    return [
      {
        stage: stepId(run, index),
        status: done.status,
        message: done.message,
        ...(done.deploymentId ? { deploymentId: done.deploymentId } : {}),
      },
    ];
  });
  events.push({
    detailType: "Run Rolled Back",
    detail: { ...runDetail(run, "ROLLED_BACK", now), error: rollback.cause, rollbacks },
  });
  return { transition: { expect, set, steps, events }, task: { kind: "rolledBack" } };
}

/** The record as this transition already changes it, if it does. */
function pending(steps: readonly StepRecord[], record: StepRecord): StepRecord {
  return steps.find((s) => s.index === record.index && s.attempt === record.attempt) ?? record;
}

/** One write per step record: a later change to the same record replaces the earlier one. */
function upsert(steps: StepRecord[], record: StepRecord): void {
  const at = steps.findIndex((s) => s.index === record.index && s.attempt === record.attempt);
  if (at >= 0) steps[at] = record;
  else steps.push(record);
}

function currentTask(run: RunView): RollbackTask {
  const rollback = run.rollback;
  const index = rollback?.targets[rollback.position];
  return index === undefined ? { kind: "rolledBack" } : rollbackTask(run, index);
}

/** The rollback of one deploy step: its group, back to its last good revision. */
function rollbackTask(run: RunView, index: number): RollbackTask {
  const target = run.plan.steps[index];
  return {
    kind: "rollback",
    index,
    attempt: run.attempt,
    id: stepId(run, index),
    // A rollback deployment may take as long as the deployment it undoes.
    timeoutSeconds: target?.kind === "deploy" ? target.timeoutSeconds : 3600,
  };
}

function recordOf(run: RunView, index: number): StepRecord {
  const record = run.steps.find((s) => s.index === index && s.attempt === run.attempt);
  if (!record) throw new ConflictError(`run ${run.id} has no record of step ${index}`);
  return record;
}

function stepId(run: RunView, index: number): string {
  return run.plan.steps[index]?.id ?? String(index);
}
