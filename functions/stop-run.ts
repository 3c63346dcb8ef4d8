import { deployments } from "../adapters/deployments";
import { queuePorts } from "../adapters/queue-ports";
import { RunIdSchema } from "../domain/run";
import { actorOf, apiHandler, json, optionalJsonBody, pathParameter } from "../http/api";
import { stopRun } from "../usecases/run-control";

/** POST /runs/{id}/stop: stop a run (one that has deployed rolls back), with an optional reason. */
export const handler = apiHandler(async (event) => {
  const runId = pathParameter(event, "id", RunIdSchema);
  const run = await stopRun(
    { ...queuePorts(), deployments: deployments() },
    runId,
    actorOf(event),
    optionalJsonBody(event),
  );
  return json(200, run);
});
