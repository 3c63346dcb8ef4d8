import { createHmac, timingSafeEqual } from "node:crypto";

/** Slack refuses to sign for longer: a request older (or newer) than this may be a replay. */
const SLACK_MAX_CLOCK_SKEW_S = 5 * 60;

export type SlackSignatureCheck = "valid" | "missing" | "stale" | "mismatch";

/**
 * Checks Slack's `v0` request signature: `v0=` and the hex HMAC-SHA256, keyed with the app's
 * signing secret, of `v0:{X-Slack-Request-Timestamp}:{raw body}`. Never throws.
 */
export function checkSlackSignature(request: {
  signature: string | undefined;
  timestamp: string | undefined;
  rawBody: string;
  secret: string;
  now: Date;
}): SlackSignatureCheck {
  const { signature, timestamp, rawBody, secret, now } = request;
  if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return "missing";
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > SLACK_MAX_CLOCK_SKEW_S) return "stale";
  if (secret === "") return "mismatch";
  const expected = slackSignature(secret, timestamp, rawBody);
  // Comparing digests keeps the comparison constant-time whatever length the header has.
  return timingSafeEqual(digest(signature), digest(expected)) ? "valid" : "mismatch";
}

/** The `X-Slack-Signature` Slack would send for this body at this time. */
export function slackSignature(secret: string, timestamp: string, rawBody: string): string {
  const mac = createHmac("sha256", secret).update(`v0:${timestamp}:${rawBody}`, "utf8");
  return `v0=${mac.digest("hex")}`;
}

function digest(text: string): Buffer {
  return createHmac("sha256", "slack-signature-comparison").update(text, "utf8").digest();
}
