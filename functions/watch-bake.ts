import { deployPorts } from "../adapters/deploy-ports";
import { watchBake } from "../usecases/deploy";
import { taskHandler } from "./task";

/**
 * Pipeline task of a wave's bake (`.waitForTaskToken`, timing out at the bake time): watches
 * the wave's alarms. Input: `{ runId, index, attempt, taskToken }`.
 */
export const handler = taskHandler((input: unknown) => watchBake(deployPorts(), input));
