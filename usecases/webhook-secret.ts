import { randomBytes } from "node:crypto";
import type { AppRepository, AuditLog, Clock, WebhookSecretRepository } from "../domain/ports";
import { parseRequest } from "../domain/validation";
import * as z from "../domain/zod";
import { requireApp } from "./require-app";

/** Shorter than this, a secret is too easy to guess; GitHub's own example is 26 characters. */
export const MIN_SECRET_LENGTH = 20;
/** Far above what any git host generates, and well inside a standard SSM parameter's 4 KB. */
export const MAX_SECRET_LENGTH = 256;

/**
 * `{ "secret": "..." }` to set a secret the team chose (the one its git host generated, say);
 * `{}` or no body for one Sluice generates.
 */
export const WebhookSecretRequestSchema = z.strictObject({
  secret: z.optional(
    z.string().check(
      z.minLength(
        MIN_SECRET_LENGTH,
        `a webhook secret needs at least ${MIN_SECRET_LENGTH} characters`,
      ),
      z.maxLength(
        MAX_SECRET_LENGTH,
        `a webhook secret has at most ${MAX_SECRET_LENGTH} characters`,
      ),
      // A newline or NUL is nearly always a copying mistake, and no git host could send it back.
      z.regex(
        /^[^\p{Cc}]*$/u,
        "a webhook secret may not hold control characters (newlines, tabs, NUL)",
      ),
    ),
  ),
});

export interface WebhookSecretPorts {
  apps: AppRepository;
  secrets: WebhookSecretRepository;
  clock: Clock;
  /** The audit trail, told who set the secret (never the secret). */
  audit?: AuditLog;
}

export interface IssuedWebhookSecret {
  app: string;
  /** A generated secret, shown this once; a chosen one is never sent back. */
  secret?: string;
  /** `generated` by Sluice, or `chosen` by the caller. */
  origin: "generated" | "chosen";
  rotatedAt: string;
  /** Who set it: the caller's IAM principal (locally, the CLI user). */
  rotatedBy: string;
}

/**
 * Gives a registered app a new webhook secret, the caller's own or a random one, replacing any
 * earlier one: deliveries signed with the old secret are refused from now on, so the git host
 * must get the new one.
 */
export async function rotateWebhookSecret(
  ports: WebhookSecretPorts,
  appName: string,
  by: string,
  body: unknown,
): Promise<IssuedWebhookSecret> {
  const request = parseRequest(WebhookSecretRequestSchema, "webhook secret", body);
  const app = await requireApp(ports.apps, appName);
  const chosen = request.secret;
  const secret = chosen ?? randomBytes(32).toString("hex");
  const rotatedAt = ports.clock.now().toISOString();
  await ports.secrets.put(app.name, secret, { by, at: rotatedAt });
  await ports.audit?.record({
    app: app.name,
    type: "webhook-secret",
    by,
    at: rotatedAt,
    detail: { origin: chosen === undefined ? "generated" : "chosen" },
  });
  return {
    app: app.name,
    ...(chosen === undefined ? { secret } : {}),
    origin: chosen === undefined ? "generated" : "chosen",
    rotatedAt,
    rotatedBy: by,
  };
}
