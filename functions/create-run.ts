import { adapters } from "../adapters/clients";
import { systemClock } from "../domain/ports";
import { apiHandler, json, jsonBody, pathParameter } from "../http/api";
import { parseCreateRunRequest, startRun } from "../usecases/start-run";

/** POST /apps/{app}/runs: start a run of a given revision (the CLI and API path). */
export const handler = apiHandler(async (event) => {
  const request = parseCreateRunRequest(jsonBody(event));
  const a = adapters();
  const run = await startRun(
    { ...a, clock: systemClock },
    pathParameter(event, "app"),
    request.revision,
    {
      type: "api",
      ...(request.requestedBy ? { by: request.requestedBy } : {}),
      ...(request.reason ? { reason: request.reason } : {}),
    },
  );
  return json(202, run);
});
