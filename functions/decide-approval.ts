import { pipelineExecutions } from "../adapters/pipeline-executions";
import { runStore } from "../adapters/run-store";
import { systemClock } from "../domain/ports";
import { RunIdSchema } from "../domain/run";
import { actorOf, apiHandler, json, jsonBody, pathParameter } from "../http/api";
import { decideApproval } from "../usecases/approval";

/** POST /runs/{id}/approval: approve or reject the approval the run waits in. */
export const handler = apiHandler(async (event) => {
  const runId = pathParameter(event, "id", RunIdSchema);
  const decision = await decideApproval(
    { runs: runStore(), executions: pipelineExecutions(), clock: systemClock },
    runId,
    actorOf(event),
    jsonBody(event),
  );
  return json(200, decision);
});
