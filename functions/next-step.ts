import { runStore } from "../adapters/run-store";
import { systemClock } from "../domain/ports";
import { nextStep } from "../usecases/next-step";
import { taskHandler } from "./task";

/**
 * Pipeline task: records the step the run finished and the one it enters next, and tells the
 * state machine which that is. Input: `{ runId, step, result }`.
 */
export const handler = taskHandler((input: unknown) =>
  nextStep({ runs: runStore(), clock: systemClock }, input),
);
