import type { LifecycleEvent } from "./lifecycle-events";
import type { PlanStep } from "./plan";
import type { Run } from "./run";
import { runDetail } from "./steps";

type DeployStep = Extract<PlanStep, { kind: "deploy" }>;
type BakeStep = Extract<PlanStep, { kind: "bake" }>;

/** A production wave of a plan: its deploy step (`<stage>/<wave>`) and the bake after it. */
export interface PlannedWave {
  id: string;
  stage: string;
  number: number;
  deploy: DeployStep;
  deployIndex: number;
  bake?: BakeStep;
  bakeIndex?: number;
}

/** The production waves of a plan, in order: the deploy steps a production stage made. */
export function wavesOf(steps: readonly PlanStep[]): PlannedWave[] {
  const waves: PlannedWave[] = [];
  steps.forEach((step, index) => {
    if (step.kind !== "deploy" || !step.id.includes("/")) return;
    const next = steps[index + 1];
    const baked = next?.kind === "bake" && next.id === `${step.id}/bake` ? next : undefined;
    waves.push({
      id: step.id,
      stage: step.id.slice(0, step.id.indexOf("/")),
      number: 0,
      deploy: step,
      deployIndex: index,
      ...(baked ? { bake: baked, bakeIndex: index + 1 } : {}),
    });
  });
  return waves.map((wave, i) => ({ ...wave, number: i + 1 }));
}

function waveDetail(run: Run, wave: PlannedWave, total: number, at: string) {
  return {
    ...runDetail(run, "RUNNING", at),
    stage: wave.stage,
    wave: wave.id,
    waveNumber: wave.number,
    waves: total,
    deploymentGroup: wave.deploy.deploymentGroup,
    deploymentConfig: wave.deploy.deploymentConfig,
  };
}

/**
 * The wave event of entering plan step `index`: Wave Started for a wave's deployment, Wave
 * Baking (until when) for its bake. None for any other step.
 */
export function waveEntered(run: Run, index: number, at: string): LifecycleEvent | undefined {
  const waves = wavesOf(run.plan.steps);
  const started = waves.find((w) => w.deployIndex === index);
  if (started) {
    return { detailType: "Wave Started", detail: waveDetail(run, started, waves.length, at) };
  }
  const baking = waves.find((w) => w.bakeIndex === index);
  if (!baking?.bake) return undefined;
  return {
    detailType: "Wave Baking",
    detail: {
      ...waveDetail(run, baking, waves.length, at),
      bakeSeconds: baking.bake.seconds,
      until: new Date(Date.parse(at) + baking.bake.seconds * 1000).toISOString(),
    },
  };
}

/** Wave Succeeded, when plan step `index` was a wave's last (its bake, or an unbaked deploy). */
export function waveClosed(run: Run, index: number, at: string): LifecycleEvent | undefined {
  const waves = wavesOf(run.plan.steps);
  const done = waves.find((w) => (w.bakeIndex ?? w.deployIndex) === index);
  if (!done) return undefined;
  return { detailType: "Wave Succeeded", detail: waveDetail(run, done, waves.length, at) };
}
