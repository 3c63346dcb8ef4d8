import { appStore } from "../adapters/app-store";
import { queuePorts } from "../adapters/queue-ports";
import { awaitApproval } from "../usecases/approval";
import { taskHandler } from "./task";

/**
 * Pipeline task of an approval stage (`.waitForTaskToken`): keeps the token that a decision
 * resumes the run with. Input: `{ runId, index, attempt, taskToken }`.
 */
export const handler = taskHandler((input: unknown) =>
  awaitApproval({ ...queuePorts(), apps: appStore() }, input),
);
