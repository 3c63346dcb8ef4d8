import { appStore } from "../adapters/app-store";
import { bundleLedger } from "../adapters/bundle-ledger";
import { intakePorts } from "../adapters/intake-ports";
import { AppNameSchema } from "../domain/app";
import { actorOf, apiHandler, json, jsonBody, pathParameter } from "../http/api";
import { parseCreateRunRequest, requestRun } from "../usecases/start-run";

/**
 * POST /apps/{app}/runs: start a run of a given revision (the CLI and API path); answered once
 * the run is recorded, QUEUED: its pipeline starts from the table's stream.
 */
export const handler = apiHandler(async (event) => {
  const app = pathParameter(event, "app", AppNameSchema);
  const request = parseCreateRunRequest(jsonBody(event));
  const run = await requestRun(
    { ...intakePorts(), apps: appStore(), bundles: bundleLedger() },
    app,
    request,
    actorOf(event),
  );
  return json(202, run);
});
