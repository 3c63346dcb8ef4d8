import { adapters } from "../adapters/clients";
import { NotFoundError } from "../domain/errors";
import { apiHandler, json, pathParameter } from "../http/api";

/** GET /apps/{app}: the app and its pipeline definition. */
export const handler = apiHandler(async (event) => {
  const name = pathParameter(event, "app");
  const app = await adapters().apps.get(name);
  if (!app) throw new NotFoundError(`app "${name}" is not registered`);
  return json(200, app);
});
