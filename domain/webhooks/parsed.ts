import type { Change } from "./change";

export type ParsedWebhook =
  | { kind: "ping"; deliveryId: string }
  | { kind: "change"; change: Change }
  | { kind: "ignored"; deliveryId: string; reason: string };

/**
 * The request is authentic but cannot be read as a webhook Sluice understands (malformed
 * JSON, missing fields or headers, an event type Sluice does not take). The handler answers
 * 400 with the message, which the git host shows in its delivery log.
 */
export class WebhookPayloadError extends Error {
  override name = "WebhookPayloadError";
}
