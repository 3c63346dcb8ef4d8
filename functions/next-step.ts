import { appStore } from "../adapters/app-store";
import { stackConfig } from "../adapters/config";
import { lockPorts } from "../adapters/deploy-ports";
import { queuePorts } from "../adapters/queue-ports";
import { nextStep } from "../usecases/next-step";
import { taskHandler } from "./task";

/**
 * Pipeline task: records the step the run finished and the one it enters next, and tells the
 * state machine which that is. Input: `{ runId, step, result }`.
 */
export const handler = taskHandler((input: unknown) =>
  nextStep({ ...queuePorts(), ...lockPorts(), apps: appStore() }, input, {
    releasesBucket: stackConfig().releasesBucket,
  }),
);
