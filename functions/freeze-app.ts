import { appStore } from "../adapters/app-store";
import { freezes } from "../adapters/holds";
import { AppNameSchema } from "../domain/app";
import { systemClock } from "../domain/ports";
import { actorOf, apiHandler, json, jsonBody, pathParameter } from "../http/api";
import { freezeApp, freezeOf } from "../usecases/freezes";

const ports = () => ({ apps: appStore(), freezes: freezes(), clock: systemClock });

/**
 * POST /apps/{app}/freeze: freeze the app's production (`{ "until": "3d", "reason": "..." }`);
 * GET /apps/{app}/freeze: the freeze that holds it now, or 404.
 */
export const handler = apiHandler(async (event) => {
  const app = pathParameter(event, "app", AppNameSchema);
  if (event.requestContext.http.method === "GET") {
    const freeze = await freezeOf(ports(), app);
    return freeze ? json(200, freeze) : json(404, { message: `app ${app} is not frozen` });
  }
  return json(201, await freezeApp(ports(), app, actorOf(event), jsonBody(event)));
});
