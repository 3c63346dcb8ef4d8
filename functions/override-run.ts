import { deployPorts } from "../adapters/deploy-ports";
import { RunIdSchema } from "../domain/run";
import { actorOf, apiHandler, json, jsonBody, pathParameter } from "../http/api";
import { overrideRun } from "../usecases/holds";

/**
 * POST /runs/{id}/override: let the run's held wave go (`{ "reason": "..." }`), or cut its bake
 * short (`{ "reason": "...", "bake": true }`), recorded with who asked.
 */
export const handler = apiHandler(async (event) => {
  const runId = pathParameter(event, "id", RunIdSchema);
  const answer = await overrideRun(deployPorts(), runId, actorOf(event), jsonBody(event));
  return json(200, answer);
});
