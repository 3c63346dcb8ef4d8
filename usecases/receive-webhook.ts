import { createHash } from "node:crypto";
import { type App, AppNameSchema } from "../domain/app";
import {
  BadRequestError,
  NotFoundError,
  PayloadTooLargeError,
  UnauthorizedError,
} from "../domain/errors";
import { ClaimTakenError, type IntakeClaim } from "../domain/intake-claims";
import type { DeliveryRecord, WebhookSecretRepository } from "../domain/ports";
import { type GitRevision, GitRevisionSchema } from "../domain/revision";
import { newRunId, type RunStatus, type RunTrigger, runChangeOf } from "../domain/run";
import { matchTriggers } from "../domain/triggers";
import { formatIssues } from "../domain/validation";
import { type Change, type Provider, ProviderSchema } from "../domain/webhooks/change";
import { type ParsedWebhook, parseWebhook, WebhookPayloadError } from "../domain/webhooks/parse";
import { type IncomingWebhook, verifyWebhook } from "../domain/webhooks/verify";
import { requireApp } from "./require-app";
import { recordRun, type StartRunPorts } from "./start-run";

/** Far above any push payload; GitHub's own cap on a delivery is 25 MB. */
export const MAX_WEBHOOK_BODY_BYTES = 5 * 1024 * 1024;
/** Hosts redeliver for a few days at most; a week of records catches every redelivery. */
const DELIVERY_RECORD_SECONDS = 7 * 24 * 60 * 60;
const MAX_DELIVERY_ID_LENGTH = 200;
/**
 * Hosts whose push bodies carry the time of the push (GitHub's `repository.pushed_at`, Gitea's
 * `repository.updated_at`), so the same bytes twice are one push sent twice, never two pushes.
 * GitLab's and Bitbucket's bodies do not: pushing the same change again sends the same bytes.
 */
const PUSH_TIMED: ReadonlySet<Provider> = new Set(["github", "gitea"]);
const MAX_REASON_LENGTH = 500;

/** The header each host authenticates a delivery with, as its users know it. */
const SIGNATURE_HEADERS: Record<Provider, string> = {
  github: "X-Hub-Signature-256",
  gitlab: "X-Gitlab-Token",
  bitbucket: "X-Hub-Signature",
  gitea: "X-Gitea-Signature",
};

export interface ReceiveWebhookPorts extends StartRunPorts {
  secrets: WebhookSecretRepository;
}

export interface WebhookRequest {
  /** The `{provider}` path segment, not yet checked. */
  provider: string;
  /** The `app` query parameter. */
  app: string | undefined;
  /** Lower-cased names. */
  headers: Record<string, string | undefined>;
  /** The body exactly as the host sent it. */
  body: Uint8Array;
}

export type WebhookOutcome =
  | { kind: "pong"; deliveryId: string }
  | { kind: "skipped"; deliveryId: string; reason: string }
  | { kind: "started"; deliveryId: string; runId: string; status: RunStatus }
  | { kind: "duplicate"; deliveryId: string; runId: string; replayOf?: string };

/**
 * Takes one delivery from a git host: checks it is authentic before reading anything from it,
 * then records a run when a push matches one of the app's triggers, in one write with the
 * delivery's claim; the run is let in from the table's stream. A delivery id is acted on once,
 * however often the host sends it; anything refused leaves no trace.
 */
export async function receiveWebhook(
  ports: ReceiveWebhookPorts,
  request: WebhookRequest,
): Promise<WebhookOutcome> {
  if (request.body.byteLength > MAX_WEBHOOK_BODY_BYTES) {
    throw new PayloadTooLargeError(
      `webhook body is ${request.body.byteLength} bytes; Sluice accepts at most ${MAX_WEBHOOK_BODY_BYTES} (5 MiB)`,
    );
  }
  const provider = ProviderSchema.safeParse(request.provider);
  if (!provider.success) {
    throw new NotFoundError(
      `unknown provider "${request.provider}": use ${ProviderSchema.options.join(", ")}`,
    );
  }
  const app = await registeredApp(ports, request.app);
  const webhook = await authentic(ports, provider.data, app, request);
  const parsed = parse(provider.data, webhook);
  switch (parsed.kind) {
    case "ping":
      return { kind: "pong", deliveryId: parsed.deliveryId };
    case "ignored":
      return { kind: "skipped", deliveryId: parsed.deliveryId, reason: parsed.reason };
    case "change":
      return deploy(ports, app, parsed.change, sha256(request.body));
  }
}

async function registeredApp(ports: ReceiveWebhookPorts, name: string | undefined): Promise<App> {
  if (name === undefined || name === "") {
    throw new BadRequestError("missing app: send webhooks to /webhooks/{provider}?app=<app>");
  }
  if (!AppNameSchema.safeParse(name).success) {
    throw new NotFoundError(`app "${name}" is not registered`);
  }
  return requireApp(ports.apps, name);
}

async function authentic(
  ports: ReceiveWebhookPorts,
  provider: Provider,
  app: App,
  request: WebhookRequest,
): Promise<IncomingWebhook> {
  // A secret not found is never cached, so this read is a fresh one then.
  const secret = await ports.secrets.get(app.name);
  if (secret === undefined) {
    throw new UnauthorizedError(`no webhook secret configured for app ${app.name}`);
  }
  const header = SIGNATURE_HEADERS[provider];
  const rawBody = utf8(request.body);
  if (rawBody === undefined) {
    // The hosts sign UTF-8 JSON; other bytes could not be checked exactly as sent.
    throw new UnauthorizedError(`the body is not UTF-8, so its ${header} cannot be checked`);
  }
  const webhook: IncomingWebhook = {
    headers: request.headers,
    rawBody,
    receivedAt: ports.clock.now(),
  };
  if (await verifyWebhook(provider, webhook, secret)) return webhook;
  // The secret may have been rotated since it was cached: read it anew once before refusing.
  const current = await ports.secrets.get(app.name, { fresh: true });
  if (current !== undefined && current !== secret) {
    if (await verifyWebhook(provider, webhook, current)) return webhook;
  }
  throw new UnauthorizedError(
    `${header} is missing or does not match app ${app.name}'s webhook secret`,
  );
}

function utf8(body: Uint8Array): string | undefined {
  try {
    // ignoreBOM keeps a leading byte-order mark, which is part of what the host signed.
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    return undefined;
  }
}

function parse(provider: Provider, webhook: IncomingWebhook): ParsedWebhook {
  try {
    return parseWebhook(provider, webhook);
  } catch (err) {
    if (err instanceof WebhookPayloadError) throw new BadRequestError(err.message, { cause: err });
    throw err;
  }
}

async function deploy(
  ports: ReceiveWebhookPorts,
  app: App,
  change: Change,
  payloadSha256: string,
): Promise<WebhookOutcome> {
  const { deliveryId } = change;
  const match = matchTriggers(app.pipeline.triggers, change);
  if (!match.matched) return { kind: "skipped", deliveryId, reason: match.reason };
  if (deliveryId.length > MAX_DELIVERY_ID_LENGTH) {
    throw new BadRequestError(
      `delivery id is ${deliveryId.length} characters; at most ${MAX_DELIVERY_ID_LENGTH}`,
    );
  }
  const revision = revisionOf(app, change);
  const trigger = triggerOf(change);
  const now = ports.clock.now();
  const delivery: DeliveryRecord = {
    app: app.name,
    provider: change.provider,
    deliveryId,
    runId: newRunId(now),
    payloadSha256,
    receivedAt: now.toISOString(),
    expiresAt: Math.floor(now.getTime() / 1000) + DELIVERY_RECORD_SECONDS,
  };
  const claims: IntakeClaim[] = [{ kind: "delivery", delivery }];
  // The same signed bytes under a new delivery id are a replay of the first delivery (Gitea's
  // Redeliver sends one too), never a change of their own.
  if (PUSH_TIMED.has(change.provider)) claims.push({ kind: "payload", delivery });
  try {
    const run = await recordRun(ports, app, revision, trigger, {
      runId: delivery.runId,
      claims,
      change: runChangeOf({
        message: change.message,
        name: change.author,
        email: change.authorEmail,
        username: change.authorUsername,
        committedAt: change.committedAt,
      }),
    });
    return { kind: "started", deliveryId, runId: run.id, status: run.status };
  } catch (err) {
    if (!(err instanceof ClaimTakenError)) throw err;
    const { taken } = err;
    switch (taken.kind) {
      case "payload":
        return {
          kind: "duplicate",
          deliveryId,
          runId: taken.holder.runId,
          replayOf: taken.holder.deliveryId,
        };
      default:
        return { kind: "duplicate", deliveryId, runId: taken.holder.runId };
    }
  }
}

function sha256(body: Uint8Array): string {
  return createHash("sha256").update(body).digest("hex");
}

function revisionOf(app: App, change: Change): GitRevision {
  const revision = GitRevisionSchema.safeParse({
    type: "git",
    repository: app.pipeline.repository ?? change.repo.cloneUrl,
    ref: change.ref,
    commit: change.commitSha,
  });
  if (!revision.success) {
    throw new BadRequestError(
      formatIssues(`revision in the ${change.provider} push`, revision.error),
    );
  }
  return revision.data;
}

function triggerOf(change: Change): RunTrigger {
  const reason = change.message.split("\n", 1)[0]?.trim().slice(0, MAX_REASON_LENGTH) ?? "";
  return {
    type: "webhook",
    ...(change.author === "" ? {} : { by: change.author }),
    ...(reason === "" ? {} : { reason }),
  };
}
