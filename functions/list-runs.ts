import { adapters } from "../adapters/clients";
import { AppNameSchema } from "../domain/app";
import { apiHandler, json, pathParameter } from "../http/api";
import { requireApp } from "../usecases/require-app";

/** GET /apps/{app}/runs: the app's runs, newest first. */
export const handler = apiHandler(async (event) => {
  const { apps, runs } = adapters();
  const app = await requireApp(apps, pathParameter(event, "app", AppNameSchema));
  return json(200, { runs: await runs.listByApp(app.name) });
});
