import { auditTrail } from "../adapters/audit-trail";
import { deployments } from "../adapters/deployments";
import { runStore } from "../adapters/run-store";
import { NotFoundError } from "../domain/errors";
import { RunIdSchema } from "../domain/run";
import { apiHandler, json, pathParameter } from "../http/api";
import { showRun } from "../usecases/show-run";

/** GET /runs/{id}: a run with its stages, waves, hosts and timeline. */
export const handler = apiHandler(async (event) => {
  const id = pathParameter(event, "id");
  const view = RunIdSchema.safeParse(id).success
    ? await showRun({ runs: runStore(), audit: auditTrail(), deployments: deployments() }, id)
    : undefined;
  if (!view) throw new NotFoundError(`run ${id} does not exist`);
  return json(200, view);
});
