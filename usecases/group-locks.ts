import { type Blocker, type GroupLock, lockBlocker } from "../domain/holds";
import type { Plan } from "../domain/plan";
import type { Clock, Deployments, GroupKey, GroupLocks } from "../domain/ports";
import type { Run } from "../domain/run";
import type { StepTask } from "../domain/steps";

/** What taking, keeping and letting go of deployment groups needs. */
export interface LockPorts {
  locks: GroupLocks;
  clock: Clock;
  /** How long a lease lasts unless renewed; a holder that dies frees its group after it. */
  leaseSeconds: number;
}

/** CodeDeploy's statuses a deployment ends in. */
const ENDED = new Set(["Succeeded", "Failed", "Stopped"]);

/** The group a deploy step deploys to, or its test or bake is about (the deploy before it). */
export function groupOf(plan: Plan, index: number): GroupKey | undefined {
  const step = plan.steps[index];
  if (step?.kind === "deploy") {
    return { application: step.application, deploymentGroup: step.deploymentGroup };
  }
  if (step?.kind !== "test" && step?.kind !== "bake") return undefined;
  for (let i = index - 1; i >= 0; i--) {
    const before = plan.steps[i];
    if (before?.kind === "deploy" && before.deploymentGroup === step.deploymentGroup) {
      return { application: before.application, deploymentGroup: before.deploymentGroup };
    }
  }
  return undefined;
}

export function sameGroup(a: GroupKey | undefined, b: GroupKey | undefined): boolean {
  return !!a && !!b && a.application === b.application && a.deploymentGroup === b.deploymentGroup;
}

export function leaseEnd(ports: LockPorts, extraSeconds = 0): string {
  return new Date(
    ports.clock.now().getTime() + (ports.leaseSeconds + extraSeconds) * 1000,
  ).toISOString();
}

/**
 * Takes the step's group for the run, or answers what holds it. A lease run out whose
 * deployment CodeDeploy still runs is kept for its holder (it is alive, only slow to say so):
 * it is renewed on its behalf, so two deployments never overlap on one group.
 */
export async function takeGroup(
  ports: LockPorts & { deployments: Deployments },
  run: Run,
  index: number,
  /** The group's lock as the caller just read it, which saves reading it again. */
  read?: { lock: GroupLock | undefined },
): Promise<Blocker | undefined> {
  const group = groupOf(run.plan, index);
  const step = run.plan.steps[index];
  if (!group || !step) return undefined;
  const now = ports.clock.now();
  const current = read ? read.lock : await ports.locks.get(group);
  if (
    current &&
    current.holder !== run.id &&
    Date.parse(current.leaseUntil) <= now.getTime() &&
    current.deploymentId &&
    (await stillDeploying(ports.deployments, current.deploymentId))
  ) {
    const leaseUntil = leaseEnd(ports);
    if (await ports.locks.renew(group, current.holder, leaseUntil)) {
      return lockBlocker({ ...current, leaseUntil });
    }
  }
  const taken = await ports.locks.acquire(
    { ...group, holder: run.id, app: run.app, step: step.id, leaseUntil: leaseEnd(ports) },
    now.toISOString(),
  );
  return taken.taken ? undefined : lockBlocker(taken.by);
}

async function stillDeploying(deployments: Deployments, deploymentId: string): Promise<boolean> {
  try {
    return !ENDED.has((await deployments.state(deploymentId)).status);
  } catch {
    // A deployment CodeDeploy no longer knows is not going on.
    return false;
  }
}

/**
 * After NextStep moved the run from step `from` to `task`: the group stays held through its
 * tests or bake (the lease then covers their time), and is let go once the run moves on.
 */
export async function settleLocks(
  ports: LockPorts,
  run: Run,
  from: number,
  task: StepTask,
): Promise<void> {
  const held = groupOf(run.plan, from);
  if (!held) return;
  const next = "index" in task ? groupOf(run.plan, task.index) : undefined;
  if (!sameGroup(held, next)) {
    await ports.locks.release(held, run.id);
    return;
  }
  const step = "index" in task ? run.plan.steps[task.index] : undefined;
  const seconds =
    step?.kind === "bake"
      ? step.seconds
      : step?.kind === "test"
        ? step.tests.timeoutMinutes * 60
        : 0;
  await ports.locks.renew(held, run.id, leaseEnd(ports, seconds));
}

/** Lets go of every group the run may hold but `keep`: its run has ended or moved on. */
export async function releaseRunLocks(
  ports: Pick<LockPorts, "locks">,
  run: Run,
  keep?: GroupKey,
): Promise<void> {
  const groups = new Map<string, GroupKey>();
  run.plan.steps.forEach((_, i) => {
    const group = groupOf(run.plan, i);
    if (group && !sameGroup(group, keep)) {
      groups.set(`${group.application}/${group.deploymentGroup}`, group);
    }
  });
  await Promise.all([...groups.values()].map((group) => ports.locks.release(group, run.id)));
}
