import { runStore } from "../adapters/run-store";
import { approvalsOf } from "../domain/approval-view";
import { NotFoundError } from "../domain/errors";
import { RunIdSchema } from "../domain/run";
import { apiHandler, json, pathParameter } from "../http/api";

/** GET /runs/{id}/approvals: the run's approval steps, their requests, votes and refusals. */
export const handler = apiHandler(async (event) => {
  const id = pathParameter(event, "id");
  const run = RunIdSchema.safeParse(id).success ? await runStore().get(id) : undefined;
  if (!run) throw new NotFoundError(`run ${id} does not exist`);
  return json(200, { runId: run.id, approvals: approvalsOf(run) });
});
