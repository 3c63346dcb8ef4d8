import { type Blocker, type Freeze, type Override, overriddenAlarmsOf } from "./holds";
import type { PlanStep } from "./plan";
import type { DeploymentWindow } from "./window";
import { windowState } from "./window-state";

type DeployStep = Extract<PlanStep, { kind: "deploy" }>;

/** What is known of a wave's surroundings when it is about to deploy. */
export interface WaveFacts {
  now: Date;
  freeze: Freeze | undefined;
  /** The wave's alarms that are in ALARM now. */
  firing: readonly string[];
  /** Overrides already given to this attempt at the wave. */
  overrides: readonly Override[];
}

/**
 * What holds a wave now, apart from its group's lock (taken only once nothing else holds it):
 * a closed window, a freeze of a production wave's app, alarms in ALARM. An override lets go
 * of the kinds of blocker it lifted, and of the alarms it found in ALARM, for the rest of the
 * attempt.
 */
export function blockersOf(step: DeployStep, facts: WaveFacts): Blocker[] {
  const lifted = facts.overrides.flatMap((o) => (o.what === "hold" ? o.lifted : []));
  const liftedKinds = new Set(lifted.map((b) => b.kind));
  const overriddenAlarms = overriddenAlarmsOf(facts.overrides);
  const blockers: Blocker[] = [];
  if (step.window && !liftedKinds.has("window")) {
    const closed = windowBlocker(step.window, facts.now);
    if (closed) blockers.push(closed);
  }
  const { freeze } = facts;
  if (step.production && freeze && Date.parse(freeze.until) > facts.now.getTime()) {
    if (!liftedKinds.has("freeze")) {
      blockers.push({
        kind: "freeze",
        message: `app ${freeze.app} is frozen until ${freeze.until} by ${freeze.by}: ${freeze.reason}`,
        until: freeze.until,
      });
    }
  }
  const firing = facts.firing.filter((alarm) => !overriddenAlarms.has(alarm));
  if (firing.length > 0) {
    blockers.push({
      kind: "alarm",
      message: `${firing.length === 1 ? "alarm" : "alarms"} ${firing.join(", ")} in ALARM; it goes on once OK`,
      alarms: firing,
    });
  }
  return blockers;
}

export function windowBlocker(window: DeploymentWindow, now: Date): Blocker | undefined {
  const state = windowState(window, now);
  if (state.open) return undefined;
  const described = `${window.cron} ${window.timeZone}, ${window.durationMinutes} min`;
  return state.opens
    ? {
        kind: "window",
        message: `outside its deployment window (${described}); it opens at ${state.opens.toISOString()}`,
        until: state.opens.toISOString(),
      }
    : { kind: "window", message: `its deployment window (${described}) never opens again` };
}
