import { randomBytes } from "node:crypto";
import type { AppRepository, Clock, WebhookSecretRepository } from "../domain/ports";
import { requireApp } from "./require-app";

export interface WebhookSecretPorts {
  apps: AppRepository;
  secrets: WebhookSecretRepository;
  clock: Clock;
}

export interface IssuedWebhookSecret {
  app: string;
  /** Shown this once; Sluice never answers with it again. */
  secret: string;
  rotatedAt: string;
}

/**
 * Gives a registered app a new random webhook secret, replacing any earlier one: deliveries
 * signed with the old secret are refused from now on, so the git host must get the new one.
 */
export async function rotateWebhookSecret(
  ports: WebhookSecretPorts,
  appName: string,
): Promise<IssuedWebhookSecret> {
  const app = await requireApp(ports.apps, appName);
  const secret = randomBytes(32).toString("hex");
  await ports.secrets.put(app.name, secret);
  return { app: app.name, secret, rotatedAt: ports.clock.now().toISOString() };
}
