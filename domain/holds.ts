import * as z from "./zod";

/** What can hold a wave before it deploys. */
export const BlockerKindSchema = z.enum(["window", "freeze", "alarm", "lock"]);
export type BlockerKind = z.infer<typeof BlockerKindSchema>;

/** One reason a wave waits: what holds it, in words, and when it lifts by itself, if it does. */
export const BlockerSchema = z.object({
  kind: BlockerKindSchema,
  message: z.string(),
  until: z.optional(z.string()),
  /** The alarms in ALARM, for an alarm blocker. */
  alarms: z.optional(z.array(z.string())),
  /** The run that holds the deployment group, for a lock blocker. */
  holder: z.optional(z.string()),
});
export type Blocker = z.infer<typeof BlockerSchema>;

/** A wave's hold as its step records it: since when, why, and until when if that is known. */
export const HoldSchema = z.object({
  since: z.string(),
  blockers: z.array(BlockerSchema),
  until: z.optional(z.string()),
});
export type Hold = z.infer<typeof HoldSchema>;

/**
 * An operator's override, recorded on the step it concerns: who, why and when, and what it let
 * go (the blockers of a held wave, or a bake cut short). A lock is never overridden: it is what
 * keeps two deployments off one group.
 */
export const OverrideSchema = z.object({
  by: z.string(),
  reason: z.string(),
  at: z.string(),
  what: z.enum(["hold", "bake"]),
  /** The blockers it let go, as they were when it was given. */
  lifted: z.array(BlockerSchema),
});
export type Override = z.infer<typeof OverrideSchema>;

/** An app's freeze: every production wave of it waits until `until` or until it is lifted. */
export const FreezeSchema = z.object({
  app: z.string(),
  until: z.string(),
  reason: z.string(),
  by: z.string(),
  at: z.string(),
});
export type Freeze = z.infer<typeof FreezeSchema>;

/** A run's lease on one deployment group (a CodeDeploy application's group). */
export const GroupLockSchema = z.object({
  application: z.string(),
  deploymentGroup: z.string(),
  holder: z.string(),
  app: z.string(),
  step: z.string(),
  leaseUntil: z.string(),
  /** The holder's deployment, once made: a lease run out while it is still going is kept. */
  deploymentId: z.optional(z.string()),
});
export type GroupLock = z.infer<typeof GroupLockSchema>;

/** The alarms an override found in ALARM: not watched for the rest of the wave. */
export function overriddenAlarmsOf(overrides: readonly Override[]): Set<string> {
  return new Set(
    overrides.flatMap((o) => (o.what === "hold" ? o.lifted.flatMap((b) => b.alarms ?? []) : [])),
  );
}

/** The blocker a group's lock held by another run is: its holder and the lease's end. */
export function lockBlocker(lock: GroupLock): Blocker {
  return {
    kind: "lock",
    message: `deployment group ${lock.application}/${lock.deploymentGroup} is locked by run ${lock.holder} (app ${lock.app}, ${lock.step}), its lease until ${lock.leaseUntil}`,
    until: lock.leaseUntil,
    holder: lock.holder,
  };
}

/** The longest a hold waits before it looks again on its own, when nothing it waits on ends. */
export const HOLD_RECHECK_SECONDS = 24 * 3600;

/**
 * The hold's timer: the earliest moment every blocker that lifts by itself has lifted (the
 * others, an alarm or a freeze lifted early, resume the hold when they change), at most a day.
 */
export function holdSeconds(blockers: readonly Blocker[], now: Date): number {
  const untils = blockers.flatMap((b) => (b.until ? [Date.parse(b.until)] : []));
  if (untils.length === 0) return HOLD_RECHECK_SECONDS;
  const seconds = Math.ceil((Math.max(...untils) - now.getTime()) / 1000);
  return Math.min(Math.max(seconds, 1), HOLD_RECHECK_SECONDS);
}

/** When the wave can go at the earliest, if every blocker lifts by itself. */
export function holdUntil(blockers: readonly Blocker[]): string | undefined {
  if (blockers.length === 0 || blockers.some((b) => !b.until)) return undefined;
  return new Date(Math.max(...blockers.map((b) => Date.parse(b.until ?? "")))).toISOString();
}

export function holdMessage(blockers: readonly Blocker[]): string {
  return `held: ${blockers.map((b) => b.message).join("; ")}`;
}

/**
 * Whether two holds are held by the same things: a lock by the same holder (its lease may have
 * moved on), anything else in the same words.
 */
export function sameBlockers(a: readonly Blocker[], b: readonly Blocker[]): boolean {
  const identity = (x: Blocker | undefined) =>
    x?.kind === "lock" ? `lock ${x.holder}` : `${x?.kind} ${x?.message}`;
  return a.length === b.length && a.every((x, i) => identity(x) === identity(b[i]));
}

const DURATION = /^(\d+)\s*(m|min|h|d|w)$/;
const UNIT_MS = { m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * When a freeze ends: an ISO 8601 time with its offset (2026-12-24T00:00:00Z), or a duration
 * from now (90m, 8h, 3d, 2w). Undefined when it is neither, or not in the future.
 */
export function freezeEnd(text: string, now: Date): Date | undefined {
  const duration = DURATION.exec(text.trim());
  if (duration) {
    const unit = duration[2] as keyof typeof UNIT_MS;
    const end = new Date(now.getTime() + Number(duration[1]) * UNIT_MS[unit]);
    return end.getTime() > now.getTime() ? end : undefined;
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text.trim())) {
    return undefined;
  }
  const at = new Date(text.trim());
  return Number.isNaN(at.getTime()) || at.getTime() <= now.getTime() ? undefined : at;
}
