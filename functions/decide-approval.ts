import { decisionPorts } from "../adapters/approval-ports";
import { RunIdSchema } from "../domain/run";
import { actorOf, apiHandler, json, jsonBody, pathParameter } from "../http/api";
import { decideApproval } from "../usecases/approval";

/**
 * POST /runs/{id}/approval: the caller's decision on the approval the run waits in, as their
 * IAM principal; answers what came of it (recorded, approved, rejected).
 */
export const handler = apiHandler(async (event) => {
  const runId = pathParameter(event, "id", RunIdSchema);
  return json(200, await decideApproval(decisionPorts(), runId, actorOf(event), jsonBody(event)));
});
