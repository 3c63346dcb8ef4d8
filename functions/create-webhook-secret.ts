import { appStore } from "../adapters/app-store";
import { auditTrail } from "../adapters/audit-trail";
import { secretStore } from "../adapters/secret-store";
import { AppNameSchema } from "../domain/app";
import { systemClock } from "../domain/ports";
import { actorOf, apiHandler, json, optionalJsonBody, pathParameter } from "../http/api";
import { logger } from "../http/logger";
import { rotateWebhookSecret } from "../usecases/webhook-secret";

/**
 * POST /apps/{app}/webhook-secret: set the app's webhook secret, one the caller chose
 * (`{ "secret": "..." }`) or, with no body, a generated one, shown once.
 */
export const handler = apiHandler(async (event) => {
  const issued = await rotateWebhookSecret(
    { apps: appStore(), secrets: secretStore(), clock: systemClock, audit: auditTrail() },
    pathParameter(event, "app", AppNameSchema),
    actorOf(event),
    optionalJsonBody(event),
  );
  logger.info("webhook secret set", {
    app: issued.app,
    origin: issued.origin,
    by: issued.rotatedBy,
  });
  // A generated secret is in this body only: no cache, proxy or browser history may keep it.
  return {
    ...json(201, issued),
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  };
});
