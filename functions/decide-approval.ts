import { decisionPorts } from "../adapters/approval-ports";
import { RunIdSchema } from "../domain/run";
import { apiHandler, callerOf, json, jsonBody, pathParameter } from "../http/api";
import { decideApproval } from "../usecases/approval";

/**
 * POST /runs/{id}/approval (IAM) and POST /api/runs/{id}/approval (a person's JWT): the caller's
 * decision on the approval the run waits in; answers what came of it (recorded, approved,
 * rejected).
 */
export const handler = apiHandler(async (event) => {
  const runId = pathParameter(event, "id", RunIdSchema);
  return json(200, await decideApproval(decisionPorts(), runId, callerOf(event), jsonBody(event)));
});
