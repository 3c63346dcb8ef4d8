import { ConflictError } from "../domain/errors";
import { holdMessage, overriddenAlarmsOf } from "../domain/holds";
import type {
  Alarms,
  AlarmWatches,
  AppRepository,
  DeploymentState,
  Deployments,
  DeploymentWait,
  DeploymentWaits,
  Freezes,
} from "../domain/ports";
import type { DeploymentResult, HostResult, RunView, StepRecord } from "../domain/run";
import { openStep, type RunTransition } from "../domain/steps";
import { groupOf, type LockPorts, leaseEnd, takeGroup } from "./group-locks";
import type { QueuePorts } from "./run-queue";
import { keptTokenTask, tokenTask } from "./token-task";
import { blockersNow } from "./wave-blockers";

export interface DeployPorts extends QueuePorts, LockPorts {
  apps: AppRepository;
  freezes: Freezes;
  deployments: Deployments;
  waits: DeploymentWaits;
  alarms: Alarms;
  watches: AlarmWatches;
}

/** CodeDeploy's statuses a deployment ends in. */
const ENDED = new Set(["Succeeded", "Failed", "Stopped"]);

/**
 * A deploy step's task (`.waitForTaskToken`): first what would hold the wave (its window, a
 * freeze, alarms in ALARM, its group's lock, taken here once nothing else holds it); held, the
 * task fails as Sluice.WaveHeld and CheckWave records the hold and holds it. Then it creates the
 * CodeDeploy deployment of the run's bundle to the step's group, once per attempt (run again,
 * it finds the one it made), and keeps the token its state-change event resumes. Alarms an
 * override let go are not watched during the wave. A deployment that ended before the token
 * was kept is finished here, so its event cannot be missed.
 */
export async function startDeployment(ports: DeployPorts, input: unknown): Promise<void> {
  const { run, index, token } = await keptTokenTask(ports, input, "deploy task");
  const step = run.plan.steps[index];
  const record = openStep(run);
  if (run.cursor !== index || step?.kind !== "deploy" || record?.status !== "RUNNING") {
    throw new ConflictError(`run ${run.id} is not deploying step ${index}`);
  }
  if (run.revision.type !== "bundle") {
    throw new ConflictError(`run ${run.id} has no bundle to deploy`);
  }
  const watch = { runId: run.id, index, attempt: run.attempt, token };
  const ignored = overriddenAlarmsOf(record.overrides ?? []);
  const alarms = step.alarms.filter((alarm) => !ignored.has(alarm));
  const group = groupOf(run.plan, index);
  let deploymentId = record.deploymentId;
  if (deploymentId) {
    // Run again after its deployment was made: the wait and watches are kept anew.
    const wait = { deploymentId, ...watch };
    await Promise.all([
      ports.waits.put(wait),
      ports.watches.put(alarms.map((alarm) => ({ ...watch, alarm, kind: "deploy" as const }))),
    ]);
    await watchDeployment(ports, wait, alarms, step.id);
    return;
  }
  // A stop fails the step through its token (kept while the run was read), so that the run
  // rolls back. All is read together before the deployment; the group's lock is taken once
  // nothing else holds the wave.
  const [blockers, lock, previousRevision] = await Promise.all([
    blockersNow(ports, run, step, record),
    group ? ports.locks.get(group) : undefined,
    ports.runs.lastGoodRevision(run.app, step.application, step.deploymentGroup),
  ]);
  if (blockers.length === 0) {
    const locked = await takeGroup(ports, run, index, { lock });
    if (locked) blockers.push(locked);
  }
  if (blockers.length > 0) {
    await resume(() => ports.executions.failTask(token, "Sluice.WaveHeld", holdMessage(blockers)));
    return;
  }
  deploymentId = await ports.deployments.create({
    application: step.application,
    deploymentGroup: step.deploymentGroup,
    deploymentConfig: step.deploymentConfig,
    description: `Sluice run ${run.id} (${run.app}), step ${step.id}, attempt ${run.attempt}`,
    revision: {
      bucket: run.revision.bucket ?? "",
      key: run.revision.key,
      ...(run.revision.versionId ? { versionId: run.revision.versionId } : {}),
      ...(run.revision.etag ? { etag: run.revision.etag } : {}),
    },
  });
  const wait = { deploymentId, ...watch };
  // The deployment, its wait and its watches are recorded in one write; the lease now names
  // the deployment: one run out while it still goes on is kept for it.
  await Promise.all([
    ports.runs.apply(
      run.id,
      noting(
        run,
        { ...record, deploymentId, ...(previousRevision ? { previousRevision } : {}) },
        `deployment ${deploymentId} in progress`,
        { wait, alarms },
      ),
      now(ports),
    ),
    group ? ports.locks.renew(group, run.id, leaseEnd(ports), deploymentId) : undefined,
  ]);
  await watchDeployment(ports, wait, alarms, step.id);
}

/**
 * Once a deployment's wait and watches are kept: an alarm in ALARM stops it, and one that
 * ended before then is finished here, so its event cannot be missed.
 */
async function watchDeployment(
  ports: DeployPorts,
  wait: DeploymentWait,
  alarms: readonly string[],
  stepId: string,
): Promise<void> {
  const firing = await inAlarm(ports, alarms);
  if (firing.length > 0) {
    await stopForAlarm(
      ports,
      wait.deploymentId,
      wait.token,
      firing[0] ?? "",
      "it is in ALARM",
      stepId,
    );
    return;
  }
  await finishDeployment(ports, wait);
}

const now = (ports: Pick<DeployPorts, "clock">) => ports.clock.now().toISOString();

/** A note on the step, with the deployment's wait and alarm watches kept in the same write. */
function noting(
  run: RunView,
  record: StepRecord,
  message: string,
  kept: { wait: DeploymentWait; alarms: readonly string[] },
): RunTransition {
  const { deploymentId: _deploymentId, ...watch } = kept.wait;
  return {
    expect: { status: ["RUNNING"], cursor: record.index, attempt: run.attempt },
    set: {},
    steps: [{ ...record, message }],
    events: [],
    waits: [kept.wait],
    watches: kept.alarms.map((alarm) => ({ ...watch, alarm, kind: "deploy" as const })),
  };
}

async function inAlarm(ports: Pick<DeployPorts, "alarms">, names: readonly string[]) {
  const states = await ports.alarms.states(names);
  return names.filter((name) => states.get(name) === "ALARM");
}

async function stopForAlarm(
  ports: Pick<DeployPorts, "deployments" | "executions">,
  deploymentId: string | undefined,
  token: string,
  alarm: string,
  why: string,
  stepId: string,
): Promise<void> {
  if (deploymentId) await ports.deployments.stop(deploymentId);
  await resume(() =>
    ports.executions.failTask(
      token,
      "Sluice.AlarmFired",
      `alarm ${alarm} stopped ${stepId}: ${why}`,
    ),
  );
}

/**
 * Resumes a step's task; one that no longer waits (answered, timed out, stopped) is left be.
 * Whether it was resumed.
 */
export async function resume(send: () => Promise<void>): Promise<boolean> {
  try {
    await send();
    return true;
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    return false;
  }
}

/**
 * A wave's bake (`.waitForTaskToken`, its timeout the bake time: reaching it is the bake's
 * success): its alarms are watched, and one in ALARM, now or later, fails it.
 */
export async function watchBake(ports: DeployPorts, input: unknown): Promise<void> {
  const { run, index, token: taskToken } = await tokenTask(ports, input, "bake task");
  const runId = run.id;
  const step = run.plan.steps[index];
  if (run.cursor !== index || step?.kind !== "bake") {
    throw new ConflictError(`run ${runId} is not baking step ${index}`);
  }
  const watch = { runId, index, attempt: run.attempt, token: taskToken, kind: "bake" as const };
  await ports.runs.putTaskToken(runId, index, run.attempt, taskToken);
  // Alarms an override let the wave deploy through are not watched during its bake either.
  const deployed = run.steps.findLast(
    (s) => s.index < index && s.kind === "deploy" && s.attempt === run.attempt,
  );
  const ignored = overriddenAlarmsOf(deployed?.overrides ?? []);
  const alarms = step.alarms.filter((alarm) => !ignored.has(alarm));
  await ports.watches.put(alarms.map((alarm) => ({ ...watch, alarm })));
  // An override that came before the token was kept found nothing to resume.
  const now = await ports.runs.get(runId);
  const record = now?.steps.find((s) => s.index === index && s.attempt === run.attempt);
  if (record?.overrides?.some((o) => o.what === "bake")) {
    await resume(() => ports.executions.succeedTask(taskToken, { overridden: true }));
    return;
  }
  const [firing] = await inAlarm(ports, alarms);
  if (firing) await stopForAlarm(ports, undefined, taskToken, firing, "it is in ALARM", step.id);
}

/**
 * CloudWatch says an alarm changed state ("CloudWatch Alarm State Change"): to ALARM, the
 * deployments and bakes that watch it stop and fail (Sluice.AlarmFired); to OK, the waves it
 * held look again (their Hold resumes into CheckWave).
 */
export async function alarmChanged(
  ports: DeployPorts,
  alarm: string,
  state: string,
  reason: string,
): Promise<void> {
  for (const watch of await ports.watches.of(alarm)) {
    const run = await ports.runs.get(watch.runId);
    const record = run?.steps.find((s) => s.index === watch.index && s.attempt === watch.attempt);
    const waiting =
      run?.status === "RUNNING" && run.cursor === watch.index && record?.status === "RUNNING";
    if (!run || !record || !waiting) {
      await ports.watches.remove(watch);
      continue;
    }
    if (state === "ALARM" && watch.kind !== "hold") {
      await stopForAlarm(ports, record.deploymentId, watch.token, alarm, reason, record.step);
      await ports.watches.remove(watch);
    } else if (state === "OK" && watch.kind === "hold") {
      await ports.watches.remove(watch);
      await resume(() => ports.executions.succeedTask(watch.token, { released: true }));
    }
  }
}

/** What CodeDeploy's state-change event told of a deployment: its state and its group. */
export interface DeploymentChange {
  /** The event's: START, SUCCESS, FAILURE, STOP and the like. */
  state: string;
  deploymentGroup?: string | undefined;
}

/** The event's states that say the deployment has ended. */
const ENDED_CHANGES = new Set(["SUCCESS", "FAILURE", "STOP"]);

/**
 * CodeDeploy says a deployment changed state ("CodeDeploy Deployment State-change
 * Notification"): once it has ended, the step waiting on it goes on (succeeded) or fails
 * (Sluice.DeploymentFailed), with every host's result. When the event (`told`) says it has
 * ended, its hosts are read along with it; a success needs nothing more of CodeDeploy, a
 * failure or a stop its error.
 */
export async function deploymentChanged(
  ports: Pick<DeployPorts, "deployments" | "waits" | "executions">,
  deploymentId: string,
  told?: DeploymentChange,
): Promise<void> {
  const ended = told !== undefined && ENDED_CHANGES.has(told.state);
  const succeeded: DeploymentState | undefined =
    told?.state === "SUCCESS" && told.deploymentGroup
      ? { deploymentId, deploymentGroup: told.deploymentGroup, status: "Succeeded" }
      : undefined;
  // Read together: a deployment no step waits on any more costs needless reads.
  const [wait, state, hosts] = await Promise.all([
    ports.waits.get(deploymentId),
    succeeded ?? ports.deployments.state(deploymentId),
    ended ? ports.deployments.hosts(deploymentId) : undefined,
  ]);
  if (wait) await finishDeployment(ports, wait, { state, hosts });
}

/** Once its deployment has ended, the step waiting on it goes on or fails, with every host. */
async function finishDeployment(
  ports: Pick<DeployPorts, "deployments" | "executions">,
  wait: DeploymentWait,
  known: { state?: DeploymentState; hosts?: HostResult[] | undefined } = {},
): Promise<void> {
  const { deploymentId } = wait;
  const state = known.state ?? (await ports.deployments.state(deploymentId));
  if (!ENDED.has(state.status)) return;
  const result: DeploymentResult = {
    deploymentId,
    deploymentGroup: state.deploymentGroup,
    status: state.status,
    hosts: known.hosts ?? (await ports.deployments.hosts(deploymentId)),
  };
  await resume(async () => {
    if (state.status === "Succeeded") {
      await ports.executions.succeedTask(wait.token, result);
    } else {
      const failed = result.hosts.filter((h) => h.failure).map((h) => `${h.id} (${h.failure})`);
      await ports.executions.failTask(
        wait.token,
        "Sluice.DeploymentFailed",
        `deployment ${deploymentId} to ${state.deploymentGroup} ${state.status.toLowerCase()}${state.error ? `: ${state.error}` : ""}${failed.length ? `; failed hosts: ${failed.join(", ")}` : ""}`,
      );
    }
  });
}
