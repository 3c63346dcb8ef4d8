import { appStore } from "../adapters/app-store";
import { AppNameSchema } from "../domain/app";
import { apiHandler, json, pathParameter } from "../http/api";
import { requireApp } from "../usecases/require-app";

/** GET /apps/{app}: the app and its pipeline definition. */
export const handler = apiHandler(async (event) =>
  json(200, await requireApp(appStore(), pathParameter(event, "app", AppNameSchema))),
);
