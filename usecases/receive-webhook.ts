import { createHash } from "node:crypto";
import { type App, AppNameSchema } from "../domain/app";
import {
  BadRequestError,
  ConflictError,
  NotFoundError,
  PayloadTooLargeError,
  UnauthorizedError,
} from "../domain/errors";
import type { DeliveryRecord, DeliveryRepository, WebhookSecretRepository } from "../domain/ports";
import { type GitRevision, GitRevisionSchema } from "../domain/revision";
import { newRunId, type Run, type RunStatus, type RunTrigger } from "../domain/run";
import { matchTriggers } from "../domain/triggers";
import { formatIssues } from "../domain/validation";
import { type Change, type Provider, ProviderSchema } from "../domain/webhooks/change";
import { type ParsedWebhook, parseWebhook, WebhookPayloadError } from "../domain/webhooks/parse";
import { type IncomingWebhook, verifyWebhook } from "../domain/webhooks/verify";
import { requireApp } from "./require-app";
import { admitRun, failedToStart } from "./run-queue";
import { type StartRunPorts, startRun } from "./start-run";

/** Far above any push payload; GitHub's own cap on a delivery is 25 MB. */
export const MAX_WEBHOOK_BODY_BYTES = 5 * 1024 * 1024;
/** Hosts redeliver for a few days at most; a week of records catches every redelivery. */
const DELIVERY_RECORD_SECONDS = 7 * 24 * 60 * 60;
/** Longer than any webhook request may take, so a claim this old without its run was abandoned. */
const ABANDONED_CLAIM_MS = 60_000;
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
  deliveries: DeliveryRepository;
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
 * then starts a run when a push matches one of the app's triggers. A delivery id is acted on
 * once, however often the host sends it; anything refused leaves no trace.
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
  if (!(await verifyWebhook(provider, webhook, secret))) {
    throw new UnauthorizedError(
      `${header} is missing or does not match app ${app.name}'s webhook secret`,
    );
  }
  return webhook;
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
  const toStart: RunToStart = {
    app,
    revision: revisionOf(app, change),
    trigger: triggerOf(change),
  };

  const now = ports.clock.now();
  // The run id is chosen before the claim and stored with it, so whoever finds the claim
  // abandoned can create the very run the claimer meant to.
  const claim: DeliveryRecord = {
    app: app.name,
    provider: change.provider,
    deliveryId,
    runId: newRunId(now),
    payloadSha256,
    receivedAt: now.toISOString(),
    expiresAt: Math.floor(now.getTime() / 1000) + DELIVERY_RECORD_SECONDS,
  };
  if (await ports.deliveries.claim(claim)) {
    const original = PUSH_TIMED.has(change.provider)
      ? await ports.deliveries.claimPayload(claim)
      : undefined;
    if (original === undefined) return startClaimed(ports, claim, toStart);
    // The same signed bytes under a new delivery id: a replay of that delivery (Gitea's
    // Redeliver sends one too), never a change of its own.
    await ports.deliveries.release(claim);
    const first = await ports.deliveries.get({ ...claim, deliveryId: original });
    if (!first) {
      throw new ConflictError(
        `this payload was delivered before, as delivery ${original}; redeliver that one`,
      );
    }
    const outcome = await followUp(ports, first, toStart);
    return outcome.kind === "duplicate"
      ? { ...outcome, deliveryId, replayOf: original }
      : { ...outcome, deliveryId };
  }
  const holder = await ports.deliveries.get(claim);
  if (!holder) {
    // Released by a claimer whose run failed to start; the host's next attempt claims it.
    throw new Error(`delivery ${deliveryId} was released while being read`);
  }
  return followUp(ports, holder, toStart);
}

/** What a delivery's run deploys, and for whom. */
interface RunToStart {
  app: App;
  revision: GitRevision;
  trigger: RunTrigger;
}

/**
 * A delivery that came before: whatever its first attempt left undone is finished here, so a
 * host's retry never finds its change lost. A run not recorded after a minute is created under
 * the claimed id; one whose pipeline could not start is replaced by a new run; one recorded but
 * never let in is let in. Anything else is a duplicate.
 */
async function followUp(
  ports: ReceiveWebhookPorts,
  holder: DeliveryRecord,
  toStart: RunToStart,
): Promise<WebhookOutcome> {
  const { app, revision, trigger } = toStart;
  const { deliveryId } = holder;
  const duplicate = (runId: string) => ({ kind: "duplicate", deliveryId, runId }) as const;
  const now = ports.clock.now();
  const run = await ports.runs.get(holder.runId);
  if (!run) {
    if (!isAbandoned(holder, now)) return duplicate(holder.runId);
    try {
      return started(deliveryId, await startRun(ports, app, revision, trigger, holder.runId));
    } catch (err) {
      // Run creation is conditional: another redelivery took the claim over first.
      if (!(err instanceof ConflictError)) throw err;
      return duplicate(holder.runId);
    }
  }
  if (failedToStart(run)) {
    // The host retries because the first attempt answered 503: this one gets a run of its own.
    const retry = { ...holder, runId: newRunId(now) };
    if (await ports.deliveries.reassign(holder, retry.runId)) {
      return startClaimed(ports, retry, toStart);
    }
    return duplicate((await ports.deliveries.get(holder))?.runId ?? run.id);
  }
  // Whoever recorded the run may have died before letting it in; letting it in again is harmless.
  if (run.status === "QUEUED") await admitRun(ports, app, run);
  return duplicate(run.id);
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

async function startClaimed(
  ports: ReceiveWebhookPorts,
  claim: DeliveryRecord,
  { app, revision, trigger }: RunToStart,
): Promise<WebhookOutcome> {
  try {
    return started(claim.deliveryId, await startRun(ports, app, revision, trigger, claim.runId));
  } catch (err) {
    // Without its run the claim would turn the host's retry away as a duplicate for a
    // minute; if this clean-up fails too, the abandoned-claim rule still frees it later.
    const run = await ports.runs.get(claim.runId).catch(() => "unknown");
    if (run === undefined) await ports.deliveries.release(claim).catch(() => undefined);
    throw err;
  }
}

/** A claim whose run is not recorded, made longer ago than any webhook request may take. */
function isAbandoned(holder: DeliveryRecord, now: Date): boolean {
  return now.getTime() - Date.parse(holder.receivedAt) > ABANDONED_CLAIM_MS;
}

function started(deliveryId: string, run: Run): WebhookOutcome {
  return { kind: "started", deliveryId, runId: run.id, status: run.status };
}
