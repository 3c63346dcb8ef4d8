import { deployPorts } from "../adapters/deploy-ports";
import { checkWave } from "../usecases/holds";
import { taskHandler } from "./task";

/**
 * Pipeline task of a wave its deploy task found held, and after each hold (CheckWave): what
 * holds it (its window, a freeze, alarms in ALARM, its group's lock), recorded on the step, and
 * for how long the Hold state waits.
 * Input: `{ runId, index, attempt }`; answers `{ held: false }` or `{ held: true, seconds }`.
 */
export const handler = taskHandler((input: unknown) => checkWave(deployPorts(), input));
