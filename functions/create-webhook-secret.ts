import { adapters } from "../adapters/clients";
import { AppNameSchema } from "../domain/app";
import { systemClock } from "../domain/ports";
import { apiHandler, json, pathParameter } from "../http/api";
import { rotateWebhookSecret } from "../usecases/webhook-secret";

/** POST /apps/{app}/webhook-secret: generate or rotate the app's webhook secret, shown once. */
export const handler = apiHandler(async (event) => {
  const { apps, secrets } = adapters();
  const issued = await rotateWebhookSecret(
    { apps, secrets, clock: systemClock },
    pathParameter(event, "app", AppNameSchema),
  );
  // The secret is in this body only: no cache, proxy or browser history may keep it.
  return {
    ...json(201, issued),
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  };
});
