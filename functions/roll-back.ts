import { deployPorts } from "../adapters/deploy-ports";
import { rollBack } from "../usecases/rollback";
import { taskHandler } from "./task";

/**
 * Pipeline task of the walk back after a step failed for good: records it, and answers the
 * next group to roll back, or that the run has rolled back. Input: `{ runId, step, error, result }`.
 */
export const handler = taskHandler((input: unknown) => rollBack(deployPorts(), input));
