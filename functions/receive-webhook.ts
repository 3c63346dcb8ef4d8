import { intakeApps } from "../adapters/app-store";
import { intakePorts } from "../adapters/intake-ports";
import { secretStore } from "../adapters/secret-store";
import { type ApiEvent, type ApiResult, apiHandler, json } from "../http/api";
import { logger } from "../http/logger";
import { receiveWebhook, type WebhookOutcome } from "../usecases/receive-webhook";

/**
 * POST /webhooks/{provider}?app=<app>: a git host's delivery, answered once its run is recorded
 * (one write); the run's pipeline starts from the table's stream.
 */
export const handler = apiHandler(async (event) => {
  const outcome = await receiveWebhook(
    { ...intakePorts(), apps: intakeApps(), secrets: secretStore() },
    {
      provider: event.pathParameters?.provider ?? "",
      app: event.queryStringParameters?.app,
      headers: lowerCased(event.headers),
      body: rawBody(event),
    },
  );
  logger.info("webhook received", {
    provider: event.pathParameters?.provider,
    app: event.queryStringParameters?.app,
    ...outcome,
  });
  return answer(outcome);
});

function answer(outcome: WebhookOutcome): ApiResult {
  const { deliveryId } = outcome;
  switch (outcome.kind) {
    case "pong":
      return json(200, { message: "pong", deliveryId });
    case "skipped":
      return json(202, { started: false, reason: outcome.reason, deliveryId });
    case "started":
      return json(202, {
        started: true,
        runId: outcome.runId,
        status: outcome.status,
        deliveryId,
      });
    case "duplicate":
      return json(202, {
        started: false,
        duplicate: true,
        runId: outcome.runId,
        deliveryId,
        ...(outcome.replayOf ? { replayOf: outcome.replayOf } : {}),
      });
  }
}

/** API Gateway base64-encodes bodies of non-text content types; signatures cover the bytes. */
function rawBody(event: ApiEvent): Uint8Array {
  if (event.body === undefined) return new Uint8Array();
  return Buffer.from(event.body, event.isBase64Encoded ? "base64" : "utf8");
}

function lowerCased(headers: ApiEvent["headers"]): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
}
