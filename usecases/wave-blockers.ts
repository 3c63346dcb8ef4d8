import type { Blocker } from "../domain/holds";
import type { PlanStep } from "../domain/plan";
import type { Alarms, Clock, Freezes } from "../domain/ports";
import type { RunView, StepRecord } from "../domain/run";
import { blockersOf } from "../domain/wave-blockers";

type DeployStep = Extract<PlanStep, { kind: "deploy" }>;

/** A production wave's freeze, alarms in ALARM and window, as they are now. */
export async function blockersNow(
  ports: { alarms: Alarms; freezes: Freezes; clock: Clock },
  run: RunView,
  step: DeployStep,
  record: StepRecord,
): Promise<Blocker[]> {
  const [states, freeze] = await Promise.all([
    ports.alarms.states(step.alarms),
    step.production ? ports.freezes.get(run.app) : undefined,
  ]);
  return blockersOf(step, {
    now: ports.clock.now(),
    freeze,
    firing: step.alarms.filter((alarm) => states.get(alarm) === "ALARM"),
    overrides: record.overrides ?? [],
  });
}
