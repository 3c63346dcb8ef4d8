import { createHash, timingSafeEqual } from "node:crypto";
import { verify as verifyHmacSha256 } from "@octokit/webhooks-methods";
import type { Provider } from "./change";

/** A webhook request as the handler received it. Header names are lower-cased. */
export interface IncomingWebhook {
  headers: Record<string, string | undefined>;
  rawBody: string;
  receivedAt: Date;
}

const PREFIXED_SHA256 = /^sha256=([0-9a-f]{64})$/i;
const BARE_SHA256 = /^([0-9a-f]{64})$/i;

/**
 * Checks that a webhook was sent by the git host that shares `secret`, using that host's own
 * scheme. Never throws: a missing or malformed header, an empty secret or an empty body is
 * simply not authentic.
 */
export async function verifyWebhook(
  provider: Provider,
  webhook: IncomingWebhook,
  secret: string,
): Promise<boolean> {
  if (secret === "") return false;
  try {
    switch (provider) {
      case "github":
        return await hmacMatches(
          webhook,
          secret,
          webhook.headers["x-hub-signature-256"],
          PREFIXED_SHA256,
        );
      case "bitbucket":
        return await hmacMatches(
          webhook,
          secret,
          webhook.headers["x-hub-signature"],
          PREFIXED_SHA256,
        );
      case "gitea":
        return await hmacMatches(
          webhook,
          secret,
          webhook.headers["x-gitea-signature"],
          BARE_SHA256,
        );
      case "gitlab":
        return tokenMatches(webhook.headers["x-gitlab-token"], secret);
    }
  } catch {
    return false;
  }
}

async function hmacMatches(
  webhook: IncomingWebhook,
  secret: string,
  header: string | undefined,
  format: RegExp,
): Promise<boolean> {
  const hex = header === undefined ? undefined : format.exec(header)?.[1];
  if (hex === undefined || webhook.rawBody === "") return false;
  // All three hosts sign the raw body with HMAC-SHA256 and differ only in how they write the
  // digest, so one well-tested constant-time check serves them all once the digest is put
  // in GitHub's "sha256=<lower-case hex>" form.
  return verifyHmacSha256(secret, webhook.rawBody, `sha256=${hex.toLowerCase()}`);
}

function tokenMatches(token: string | undefined, secret: string): boolean {
  if (token === undefined) return false;
  // Comparing digests rather than the strings keeps the comparison constant-time even when
  // the lengths differ, so a wrong guess does not reveal the secret's length.
  return timingSafeEqual(sha256(token), sha256(secret));
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}
