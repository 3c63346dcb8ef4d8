import { deployPorts } from "../adapters/deploy-ports";
import { startRollback } from "../usecases/rollback";
import { taskHandler } from "./task";

/**
 * Pipeline task of one group's rollback (`.waitForTaskToken`): deploys the revision that last
 * succeeded there. Input: `{ runId, index, attempt, taskToken }`.
 */
export const handler = taskHandler((input: unknown) => startRollback(deployPorts(), input));
