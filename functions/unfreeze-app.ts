import { appStore } from "../adapters/app-store";
import { freezes } from "../adapters/holds";
import { AppNameSchema } from "../domain/app";
import { systemClock } from "../domain/ports";
import { actorOf, apiHandler, json, jsonBody, pathParameter } from "../http/api";
import { unfreezeApp } from "../usecases/freezes";

/** POST /apps/{app}/unfreeze: lift the app's freeze (`{ "reason": "..." }`); held waves go on. */
export const handler = apiHandler(async (event) => {
  const app = pathParameter(event, "app", AppNameSchema);
  const ports = { apps: appStore(), freezes: freezes(), clock: systemClock };
  return json(200, await unfreezeApp(ports, app, actorOf(event), jsonBody(event)));
});
