import { appStore } from "../adapters/app-store";
import { secretStore } from "../adapters/secret-store";
import { AppNameSchema } from "../domain/app";
import { systemClock } from "../domain/ports";
import { apiHandler, json, pathParameter } from "../http/api";
import { rotateWebhookSecret } from "../usecases/webhook-secret";

/** POST /apps/{app}/webhook-secret: generate or rotate the app's webhook secret, shown once. */
export const handler = apiHandler(async (event) => {
  const issued = await rotateWebhookSecret(
    { apps: appStore(), secrets: secretStore(), clock: systemClock },
    pathParameter(event, "app", AppNameSchema),
  );
  // The secret is in this body only: no cache, proxy or browser history may keep it.
  return {
    ...json(201, issued),
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  };
});
