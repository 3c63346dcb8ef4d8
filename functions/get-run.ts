import { runStore } from "../adapters/run-store";
import { NotFoundError } from "../domain/errors";
import { RunIdSchema } from "../domain/run";
import { apiHandler, json, pathParameter } from "../http/api";

/** GET /runs/{id}: a run's status and its stage history. */
export const handler = apiHandler(async (event) => {
  const id = pathParameter(event, "id");
  const run = RunIdSchema.safeParse(id).success ? await runStore().get(id) : undefined;
  if (!run) throw new NotFoundError(`run ${id} does not exist`);
  return json(200, run);
});
