import { runStore } from "../adapters/run-store";
import { awaitApproval } from "../usecases/approval";
import { taskHandler } from "./task";

/**
 * Pipeline task of an approval stage (`.waitForTaskToken`): keeps the token that a decision
 * resumes the run with. Input: `{ runId, index, attempt, taskToken }`.
 */
export const handler = taskHandler((input: unknown) => awaitApproval({ runs: runStore() }, input));
