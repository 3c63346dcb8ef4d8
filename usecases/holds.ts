import { ConflictError, NotFoundError } from "../domain/errors";
import {
  type GroupLock,
  holdMessage,
  holdSeconds,
  holdUntil,
  lockBlocker,
  type Override,
  sameBlockers,
} from "../domain/holds";
import type { LifecycleEvent } from "../domain/lifecycle-events";
import type { PlanStep } from "../domain/plan";
import { freezeHold, type GroupKey, type HoldWatches, lockHold } from "../domain/ports";
import type { RunView, StepRecord } from "../domain/run";
import { openStep, runDetail } from "../domain/steps";
import { parseRequest } from "../domain/validation";
import * as z from "../domain/zod";
import { type DeployPorts, resume } from "./deploy";
import { groupOf, takeGroup } from "./group-locks";
import { stepTask, tokenTask } from "./token-task";
import { blockersNow } from "./wave-blockers";

/** What holding waves, and letting them go, works with. */
export interface HoldPorts extends DeployPorts {
  holds: HoldWatches;
}

type DeployStep = Extract<PlanStep, { kind: "deploy" }>;

/** What CheckWave answers: go on to deploy, or hold for this long (the Hold state's timeout). */
export type WaveCheck = { held: false } | { held: true; seconds: number };

/** The deploy step a run is about to begin, and its record; anything else is a conflict. */
function waveOf(run: RunView, index: number): { step: DeployStep; record: StepRecord } {
  const step = run.plan.steps[index];
  const record = openStep(run);
  if (
    run.status !== "RUNNING" ||
    run.cursor !== index ||
    step?.kind !== "deploy" ||
    record?.status !== "RUNNING"
  ) {
    throw new ConflictError(`run ${run.id} is not about to deploy step ${index}`);
  }
  return { step, record };
}

/**
 * Once its deploy task found the wave held (the CheckWave state), and after each hold: what
 * holds it, if anything: a closed window, a freeze of its app, alarms in ALARM, then its
 * group's lock, taken once nothing else holds it.
 * A held wave's step records why and until when, with a "Wave Held" event when that changes,
 * and the state machine holds it (the Hold state) until the earliest moment it could go.
 */
export async function checkWave(ports: HoldPorts, input: unknown): Promise<WaveCheck> {
  const { run, index } = await stepTask(ports, input, "wave check");
  const { step, record } = waveOf(run, index);
  if (record.deploymentId) return { held: false };
  // The group's lock is read beside the rest; it is taken only once nothing else holds the wave.
  const group = groupOf(run.plan, index);
  const [blockers, lock] = await Promise.all([
    blockersNow(ports, run, step, record),
    group ? ports.locks.get(group) : undefined,
  ]);
  if (blockers.length === 0) {
    const locked = await takeGroup(ports, run, index, { lock });
    if (locked) blockers.push(locked);
  }
  const now = ports.clock.now();
  if (blockers.length === 0) {
    if (record.hold) {
      const { hold: _hold, until: _until, ...released } = record;
      await write(ports, run, { ...released, message: "no longer held: deploying" }, []);
    }
    return { held: false };
  }
  const message = holdMessage(blockers);
  if (record.message !== message) {
    const until = holdUntil(blockers);
    const { until: _until, ...rest } = record;
    const held: StepRecord = {
      ...rest,
      message,
      hold: {
        since: record.hold?.since ?? now.toISOString(),
        blockers,
        ...(until ? { until } : {}),
      },
      ...(until ? { until } : {}),
    };
    // Announced when what holds it changes, not each time a holder's lease moves on.
    const announce = !record.hold || !sameBlockers(record.hold.blockers, blockers);
    const event: LifecycleEvent = {
      detailType: "Wave Held",
      detail: {
        ...runDetail(run, "RUNNING", now.toISOString()),
        stage: step.id,
        blockers,
        ...(until ? { until } : {}),
      },
    };
    await write(ports, run, held, announce ? [event] : []);
  }
  return { held: true, seconds: holdSeconds(blockers, now) };
}

/**
 * A held wave's task (the Hold state, `.waitForTaskToken`, timing out when its blockers would
 * have lifted by themselves): keeps its token where what holds it can resume it (a freeze's
 * lift, a group's release, an alarm back to OK, an override), then looks once more, so a
 * change that came meanwhile is not missed.
 */
export async function holdWave(ports: HoldPorts, input: unknown): Promise<void> {
  const { run, index, token } = await tokenTask(ports, input, "hold task");
  const { step, record } = waveOf(run, index);
  const watch = { runId: run.id, index, attempt: run.attempt, token };
  await ports.runs.putTaskToken(run.id, index, run.attempt, token);
  const blockers = record.hold?.blockers ?? [];
  const group = groupOf(run.plan, index);
  for (const blocker of blockers) {
    if (blocker.kind === "freeze") await ports.holds.put(freezeHold(run.app), watch);
    if (blocker.kind === "alarm") {
      await ports.watches.put(
        (blocker.alarms ?? []).map((alarm) => ({ ...watch, alarm, kind: "hold" as const })),
      );
    }
    if (blocker.kind === "lock" && group) await ports.holds.put(lockHold(group), watch);
  }
  const now = await ports.runs.get(run.id);
  const current = now ? openStep(now) : undefined;
  const still = current ? await blockersNow(ports, run, step, current) : [];
  if (blockers.some((b) => b.kind === "lock") && group) {
    const lock = await watchedLock(ports, group, run.id);
    if (lock) still.push(lockBlocker(lock));
  }
  const lifted = blockers.some((b) => !still.some((s) => s.kind === b.kind));
  if (blockers.length === 0 || lifted) {
    await resume(() => ports.executions.succeedTask(token, { released: true }));
  }
}

/** How often a held wave reads its group's lock again when its holder changed under it. */
const LOCK_WATCH_TRIES = 5;

/**
 * The lock that holds the group against `runId`, noted as waited on (its release then wakes
 * the wave); none once the group is free, the run's own or its lease run out (the wave then
 * looks again). The note names the holder read, so a lock let go (or taken by another)
 * meanwhile is read again: the release of a lock noted after it was read cannot be missed.
 */
async function watchedLock(
  ports: Pick<HoldPorts, "locks" | "clock">,
  group: GroupKey,
  runId: string,
): Promise<GroupLock | undefined> {
  for (let tries = 1; ; tries++) {
    const lock = await ports.locks.get(group);
    const free =
      !lock || lock.holder === runId || Date.parse(lock.leaseUntil) <= ports.clock.now().getTime();
    if (free) return undefined;
    if (await ports.locks.watch(group, lock.holder)) return lock;
    // A lock that keeps changing hands: the wave looks again (CheckWave) rather than wait unwoken.
    if (tries >= LOCK_WATCH_TRIES) return undefined;
  }
}

/**
 * Resumes every step held under `on` (a freeze, a group's lock): each looks again at once. How
 * many were still held; a hold an override let go earlier is only cleared away.
 */
export async function releaseHolds(
  ports: Pick<HoldPorts, "holds" | "executions">,
  on: string,
): Promise<number> {
  let resumed = 0;
  for (const watch of await ports.holds.of(on)) {
    if (await resume(() => ports.executions.succeedTask(watch.token, { released: true }))) {
      resumed++;
    }
    await ports.holds.remove(on, watch);
  }
  return resumed;
}

async function write(
  ports: HoldPorts,
  run: RunView,
  record: StepRecord,
  events: LifecycleEvent[],
): Promise<void> {
  await ports.runs.apply(
    run.id,
    {
      expect: { status: ["RUNNING"], cursor: record.index, attempt: run.attempt },
      set: {},
      steps: [record],
      events,
    },
    ports.clock.now().toISOString(),
  );
}

/**
 * An operator lets a held wave go (its window, freeze and alarm blockers; never a group's lock),
 * or cuts a bake short. Recorded on the step with who, why and when, announced as "Wave
 * Overridden", and the step resumed at once.
 */
export async function overrideStep(
  ports: HoldPorts,
  run: RunView,
  override: Omit<Override, "what" | "lifted">,
  bake: boolean,
): Promise<Override> {
  const step = run.plan.steps[run.cursor];
  const record = openStep(run);
  if (run.status !== "RUNNING" || !step || record?.status !== "RUNNING") {
    throw new ConflictError(`run ${run.id} is not in a step an override can let go`);
  }
  let given: Override;
  let message: string;
  if (bake) {
    if (step.kind !== "bake") {
      throw new ConflictError(`run ${run.id} is not baking (it is in ${step.id})`);
    }
    given = { ...override, what: "bake", lifted: [] };
    message = `bake cut short by ${override.by}: ${override.reason}`;
  } else {
    if (step.kind !== "deploy" || !record.hold || record.deploymentId) {
      throw new ConflictError(
        `run ${run.id} has no held wave to let go (it is in ${step.id}); --bake cuts a bake short`,
      );
    }
    const lifted = record.hold.blockers.filter((b) => b.kind !== "lock");
    if (lifted.length === 0) {
      throw new ConflictError(
        `${step.id} of run ${run.id} waits only for its deployment group's lock, which no override lets go: it keeps two deployments off one group`,
      );
    }
    given = { ...override, what: "hold", lifted };
    message = `overridden by ${override.by}: ${override.reason}`;
  }
  await write(ports, run, { ...record, message, overrides: [...(record.overrides ?? []), given] }, [
    {
      detailType: "Wave Overridden",
      detail: { ...runDetail(run, "RUNNING", override.at), stage: step.id, override: given },
    },
  ]);
  const token = await ports.runs.taskToken(run.id, run.cursor, run.attempt);
  if (token) await resume(() => ports.executions.succeedTask(token, { overridden: true }));
  return given;
}

const OverrideRequestSchema = z.strictObject({
  reason: z
    .string()
    .check(
      z.trim(),
      z.minLength(1, "say why: an override is recorded with its reason"),
      z.maxLength(500),
    ),
  /** Cut the bake the run is in short, rather than let a held wave go. */
  bake: z._default(z.boolean(), false),
});

/** `sluice override <run>` / POST /runs/{id}/override: the override, recorded with `by`. */
export async function overrideRun(
  ports: HoldPorts,
  runId: string,
  by: string,
  body: unknown,
): Promise<{ run: RunView; override: Override }> {
  const request = parseRequest(OverrideRequestSchema, "override", body ?? {});
  const run = await ports.runs.get(runId);
  if (!run) throw new NotFoundError(`run ${runId} does not exist`);
  const at = ports.clock.now().toISOString();
  const override = await overrideStep(ports, run, { by, reason: request.reason, at }, request.bake);
  const after = await ports.runs.get(runId);
  return { run: after ?? run, override };
}
