import { appStore } from "../adapters/app-store";
import { systemClock } from "../domain/ports";
import { actorOf, apiHandler, bodyText, json, pathParameter } from "../http/api";
import { registerApp } from "../usecases/register-app";

/** PUT /apps/{app}: register an app, or replace its pipeline definition (YAML or JSON body). */
export const handler = apiHandler(async (event) => {
  const { app, created } = await registerApp(
    { apps: appStore(), clock: systemClock },
    pathParameter(event, "app"),
    bodyText(event),
    actorOf(event),
  );
  return json(created ? 201 : 200, app);
});
