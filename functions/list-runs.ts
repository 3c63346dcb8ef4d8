import { appStore } from "../adapters/app-store";
import { runStore } from "../adapters/run-store";
import { AppNameSchema } from "../domain/app";
import { apiHandler, json, pathParameter } from "../http/api";
import { requireApp } from "../usecases/require-app";

/** GET /apps/{app}/runs: the app's runs, newest first. */
export const handler = apiHandler(async (event) => {
  const app = await requireApp(appStore(), pathParameter(event, "app", AppNameSchema));
  return json(200, { runs: await runStore().listByApp(app.name) });
});
