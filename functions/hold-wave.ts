import { deployPorts } from "../adapters/deploy-ports";
import { holdWave } from "../usecases/holds";
import { taskHandler } from "./task";

/**
 * Pipeline task of a held wave (`.waitForTaskToken`, timing out when its blockers would lift by
 * themselves): keeps the token that a lifted freeze, a released group, an alarm back to OK or an
 * override resumes. Input: `{ runId, index, attempt, taskToken }`.
 */
export const handler = taskHandler((input: unknown) => holdWave(deployPorts(), input));
