import { adapters } from "../adapters/clients";
import { NotFoundError } from "../domain/errors";
import { apiHandler, json, pathParameter } from "../http/api";

/** GET /apps/{app}/runs: the app's runs, newest first. */
export const handler = apiHandler(async (event) => {
  const name = pathParameter(event, "app");
  const { apps, runs } = adapters();
  if (!(await apps.get(name))) throw new NotFoundError(`app "${name}" is not registered`);
  return json(200, { runs: await runs.listByApp(name) });
});
