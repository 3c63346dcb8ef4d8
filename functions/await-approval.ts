import { approvalTaskPorts } from "../adapters/approval-ports";
import { awaitApproval } from "../usecases/approval";
import { taskHandler } from "./task";

/**
 * Pipeline task of an approval stage (`.waitForTaskToken`): sends the approval request with
 * each approver's link, then keeps the token that a decision resumes the run with.
 * Input: `{ runId, index, attempt, taskToken }`.
 */
export const handler = taskHandler((input: unknown) => awaitApproval(approvalTaskPorts(), input));
