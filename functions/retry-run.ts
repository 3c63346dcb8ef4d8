import { appStore } from "../adapters/app-store";
import { queuePorts } from "../adapters/queue-ports";
import { RunIdSchema } from "../domain/run";
import { actorOf, apiHandler, json, optionalJsonBody, pathParameter } from "../http/api";
import { retryRun } from "../usecases/run-control";

/** POST /runs/{id}/retry: go on with a failed or stopped run from the step it ended in. */
export const handler = apiHandler(async (event) => {
  const runId = pathParameter(event, "id", RunIdSchema);
  const run = await retryRun(
    { ...queuePorts(), apps: appStore() },
    runId,
    actorOf(event),
    optionalJsonBody(event),
  );
  return json(200, run);
});
