import { createHmac, randomUUID } from "node:crypto";
import type { Provider } from "../../domain/webhooks/change";
import type { LocalStack } from "../../local/stack";
import { githubSample, hostSample, type Sample } from "../unit/webhooks/samples";
import { api } from "./local-stack";

/** A delivery as a git host would send it: the exact body bytes and the headers. */
export interface Delivery {
  provider: Provider;
  body: string | Buffer;
  headers: Record<string, string>;
}

/** Where each host puts the delivery id; the first is the one Sluice reads (docs/webhooks.md). */
const DELIVERY_HEADERS: Record<Provider, string[]> = {
  github: ["x-github-delivery"],
  gitlab: ["idempotency-key", "x-gitlab-event-uuid"],
  bitbucket: ["x-request-uuid"],
  gitea: ["x-gitea-delivery", "x-gogs-delivery", "x-github-delivery"],
};

export const EVENT_HEADERS: Record<Provider, string> = {
  github: "x-github-event",
  gitlab: "x-gitlab-event",
  bitbucket: "x-event-key",
  gitea: "x-gitea-event",
};

/** Every header a host may authenticate with; signing drops them all, then sets its own. */
const AUTH_HEADERS = [
  "x-hub-signature",
  "x-hub-signature-256",
  "x-gitlab-token",
  "x-gitea-signature",
  "x-gogs-signature",
];

/** The branch push and the tag push of each host's samples (events/webhooks/). */
export function pushSample(provider: Provider, kind: "branch" | "tag"): Sample {
  if (provider === "github") return githubSample(kind === "branch" ? "push-branch" : "push-tag");
  return hostSample(provider, kind === "branch" ? "push" : "tag-push");
}

/** The sample with a fresh delivery id, authenticated with `secret` the way its host does it. */
export function signedDelivery(
  sample: Pick<Sample, "provider" | "rawBody" | "headers">,
  secret: string,
  deliveryId: string = randomUUID(),
): Delivery {
  return sign(withDeliveryId(unsigned(sample), deliveryId), secret);
}

/** The delivery without any signature or token header. */
export function unsigned(sample: Pick<Sample, "provider" | "rawBody" | "headers">): Delivery {
  return { provider: sample.provider, body: sample.rawBody, headers: withoutAuth(sample.headers) };
}

function withoutAuth(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !AUTH_HEADERS.includes(name)),
  );
}

export function withDeliveryId(delivery: Delivery, deliveryId: string): Delivery {
  const headers = { ...delivery.headers };
  for (const name of DELIVERY_HEADERS[delivery.provider]) headers[name] = deliveryId;
  return { ...delivery, headers };
}

/** Signs (or, for GitLab, tokens) the delivery's exact body bytes with `secret`. */
export function sign(delivery: Delivery, secret: string): Delivery {
  const headers = withoutAuth(delivery.headers);
  const hex = createHmac("sha256", secret).update(delivery.body).digest("hex");
  switch (delivery.provider) {
    case "github":
      headers["x-hub-signature-256"] = `sha256=${hex}`;
      break;
    case "bitbucket":
      headers["x-hub-signature"] = `sha256=${hex}`;
      break;
    case "gitea":
      headers["x-gitea-signature"] = hex;
      break;
    case "gitlab":
      headers["x-gitlab-token"] = secret;
      break;
  }
  return { ...delivery, headers };
}

export function deliveryIdOf(delivery: Delivery): string {
  const name = DELIVERY_HEADERS[delivery.provider][0] ?? "";
  return delivery.headers[name] ?? "";
}

/** POSTs the delivery to the stack's webhook endpoint, body bytes untouched. */
export async function deliver(
  stack: LocalStack,
  app: string,
  delivery: Delivery,
  provider: string = delivery.provider,
) {
  const res = await fetch(
    `${stack.endpoints.api}/webhooks/${provider}?app=${encodeURIComponent(app)}`,
    { method: "POST", headers: delivery.headers, body: delivery.body },
  );
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) };
}

/** Registers an app from a pipeline definition and gives it a webhook secret. */
export async function appWithSecret(
  stack: LocalStack,
  name: string,
  definition: string,
): Promise<{ name: string; secret: string }> {
  const registered = await api(stack, "PUT", `/apps/${name}`, definition);
  if (registered.status !== 201 && registered.status !== 200) {
    throw new Error(`could not register ${name}: ${JSON.stringify(registered.body)}`);
  }
  return { name, secret: await rotateSecret(stack, name) };
}

export async function rotateSecret(stack: LocalStack, app: string): Promise<string> {
  const res = await api(stack, "POST", `/apps/${app}/webhook-secret`);
  if (res.status !== 201) throw new Error(`no secret for ${app}: ${JSON.stringify(res.body)}`);
  return res.body.secret;
}

// biome-ignore lint/suspicious/noExplicitAny: tests read answers loosely and assert on them
export async function runsOf(stack: LocalStack, app: string): Promise<any[]> {
  const res = await api(stack, "GET", `/apps/${app}/runs`);
  if (res.status !== 200) throw new Error(`cannot list runs of ${app}: ${res.status}`);
  return res.body.runs;
}
