import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { PayloadTooLargeError, UnauthorizedError } from "../../../domain/errors";
import type { IntakeClaim } from "../../../domain/intake-claims";
import type { LifecycleEvent } from "../../../domain/lifecycle-events";
import type { WebhookSecretRepository } from "../../../domain/ports";
import type { Run } from "../../../domain/run";
import type { Provider } from "../../../domain/webhooks/change";
import {
  MAX_WEBHOOK_BODY_BYTES,
  type ReceiveWebhookPorts,
  receiveWebhook,
} from "../../../usecases/receive-webhook";
import { MemoryApps, MemoryExecutions, MemoryRuns } from "../../support/fakes";
import { type Delivery, pushSample, sign, signedDelivery, unsigned } from "../../support/webhooks";

const SECRET = "the-apps-secret";
const PROVIDERS: Provider[] = ["github", "gitlab", "bitbucket", "gitea"];

/** Secrets with a container's cache in front: `cached` is what it still holds. */
class MemorySecrets implements WebhookSecretRepository {
  reads = 0;
  readonly items = new Map<string, string>();
  readonly cached = new Map<string, string>();
  async get(app: string, options?: { fresh?: boolean }) {
    this.reads += 1;
    if (!options?.fresh && this.cached.has(app)) return this.cached.get(app);
    return this.items.get(app);
  }
  async put(app: string, secret: string) {
    this.items.set(app, secret);
  }
}

/** Runs whose next creation fails the way a throttled or unreachable table would. */
class FlakyRuns extends MemoryRuns {
  failNextCreate = false;
  override async create(
    run: Run,
    events: readonly LifecycleEvent[],
    claims?: readonly IntakeClaim[],
  ) {
    if (this.failNextCreate) {
      this.failNextCreate = false;
      throw new Error("DynamoDB is unavailable");
    }
    await super.create(run, events, claims);
  }
}

let time = Date.parse("2026-03-01T12:00:00Z");
let ports: ReceiveWebhookPorts & {
  runs: FlakyRuns;
  secrets: MemorySecrets;
  executions: MemoryExecutions;
};

beforeEach(async () => {
  time = Date.parse("2026-03-01T12:00:00Z");
  ports = {
    apps: new MemoryApps(),
    runs: new FlakyRuns(),
    executions: new MemoryExecutions(),
    clock: { now: () => new Date(time) },
    secrets: new MemorySecrets(),
  };
  const at = new Date(time).toISOString();
  await ports.apps.put({
    name: "shop",
    pipeline: { executionMode: "parallel", triggers: [], stages: [] },
    createdAt: at,
    updatedAt: at,
  });
  await ports.secrets.put("shop", SECRET);
});

function receive(delivery: Delivery, app = "shop", provider: string = delivery.provider) {
  return receiveWebhook(ports, {
    provider,
    app,
    headers: delivery.headers,
    body: Buffer.from(delivery.body),
  });
}

const githubPush = pushSample("github", "branch");

describe("authenticity comes first", () => {
  it("refuses any body without a matching signature, and records nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...PROVIDERS),
        fc.uint8Array({ maxLength: 512 }),
        fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
        async (provider, body, wrongSecret) => {
          const delivery = { ...unsigned(pushSample(provider, "branch")), body: Buffer.from(body) };
          const sent = wrongSecret === undefined ? delivery : sign(delivery, `${wrongSecret}!`);

          await expect(receive(sent)).rejects.toBeInstanceOf(UnauthorizedError);
          expect(ports.runs.claims.size).toBe(0);
          expect(ports.runs.items.size).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("measures the body before looking at provider, app or secret", async () => {
    const huge = { ...unsigned(githubPush), body: Buffer.alloc(MAX_WEBHOOK_BODY_BYTES + 1) };

    await expect(receive(huge, "ghost", "svn")).rejects.toBeInstanceOf(PayloadTooLargeError);
    expect(ports.secrets.reads).toBe(0);
  });

  it("accepts a body of exactly the limit as far as the signature", async () => {
    const atLimit = { ...unsigned(githubPush), body: Buffer.alloc(MAX_WEBHOOK_BODY_BYTES, 0x20) };

    await expect(receive(atLimit)).rejects.toBeInstanceOf(UnauthorizedError);
  });
});

describe("a cached secret", () => {
  it("is read anew before a signature is refused, so a rotated secret verifies at once", async () => {
    ports.secrets.cached.set("shop", "the-secret-before-rotation");

    const outcome = await receive(signedDelivery(githubPush, SECRET));

    expect(outcome.kind).toBe("started");
  });

  it("still refuses a signature neither the cached nor the stored secret makes", async () => {
    ports.secrets.cached.set("shop", "the-secret-before-rotation");

    await expect(receive(signedDelivery(githubPush, "forged"))).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
  });
});

describe("the run a push starts", () => {
  it("gives the first line of the commit message as its reason, at most 500 characters", async () => {
    let pushes = 0;
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 1200, size: "max" }), async (message) => {
        const payload = JSON.parse(githubPush.rawBody);
        payload.head_commit.message = message;
        // Each its own push: the same bytes twice would be a replay of the first.
        payload.head_commit.timestamp = new Date(
          Date.UTC(2026, 0, 1, 0, 0, pushes++),
        ).toISOString();
        const delivery = signedDelivery(
          { ...githubPush, rawBody: JSON.stringify(payload) },
          SECRET,
        );

        const outcome = await receive(delivery);

        expect(outcome.kind).toBe("started");
        const runId = outcome.kind === "started" ? outcome.runId : "";
        const reason = (await ports.runs.get(runId))?.trigger.reason;
        const firstLine = message.split("\n")[0] ?? "";
        if (reason === undefined) expect(firstLine.trim()).toBe("");
        else {
          expect(reason).not.toContain("\n");
          expect(reason.length).toBeLessThanOrEqual(500);
          expect(firstLine).toContain(reason);
        }
      }),
      // Shrinking a 1,200-character message takes minutes; the first counterexample will do.
      { numRuns: 100, endOnFailure: true },
    );
  });

  it.each(PROVIDERS)(
    "keeps the %s push's whole commit message and its author, for an approval to show",
    async (provider) => {
      const push = pushSample(provider, "branch");

      const outcome = await receive(signedDelivery(push, SECRET));

      const runId = outcome.kind === "started" ? outcome.runId : "";
      const { change } = (await ports.runs.get(runId)) ?? {};
      expect(change?.message).toMatch(/\S/);
      expect(change?.author?.name).toBe((await ports.runs.get(runId))?.trigger.by);
      expect(change?.author?.email).toMatch(/@/);
    },
  );

  it("keeps a long commit message cut to 4,096 characters", async () => {
    const payload = JSON.parse(githubPush.rawBody);
    payload.head_commit.message = `Subject\n\n${"body ".repeat(2000)}`;
    const delivery = signedDelivery({ ...githubPush, rawBody: JSON.stringify(payload) }, SECRET);

    const outcome = await receive(delivery);

    const runId = outcome.kind === "started" ? outcome.runId : "";
    const message = (await ports.runs.get(runId))?.change?.message ?? "";
    expect(message).toHaveLength(4096);
    expect(payload.head_commit.message.startsWith(message)).toBe(true);
  });

  it("refuses a commit that is not a full hex sha with 400, and claims nothing", async () => {
    const payload = JSON.parse(githubPush.rawBody);
    payload.head_commit.id = "HEAD";
    const delivery = signedDelivery({ ...githubPush, rawBody: JSON.stringify(payload) }, SECRET);

    await expect(receive(delivery)).rejects.toMatchObject({
      kind: "InvalidInput",
      message: expect.stringMatching(/commit must be a full hex sha/),
    });
    expect(ports.runs.claims.size).toBe(0);
  });
});

describe("a delivery that starts a run", () => {
  it("records the run QUEUED with its claim and its event in one write, and starts nothing itself", async () => {
    const delivery = signedDelivery(githubPush, SECRET, "delivery-1");

    const outcome = await receive(delivery);

    expect(outcome).toMatchObject({ kind: "started", status: "QUEUED" });
    const runId = (outcome as { runId: string }).runId;
    expect(await ports.runs.get(runId)).toMatchObject({
      status: "QUEUED",
      executionMode: "parallel",
    });
    expect([...ports.runs.claims.values()].map((c) => c.kind).sort()).toEqual([
      "delivery",
      "payload",
    ]);
    expect(ports.runs.outbox.map((e) => e.detailType)).toEqual(["Run Queued"]);
    expect(ports.executions.started).toEqual([]);
  });

  it("leaves nothing behind when the write fails, so the host's retry starts the run", async () => {
    const delivery = signedDelivery(githubPush, SECRET);
    ports.runs.failNextCreate = true;

    await expect(receive(delivery)).rejects.toThrow(/unavailable/);
    expect(ports.runs.claims.size).toBe(0);
    const retried = await receive(delivery);

    expect(retried.kind).toBe("started");
    expect(ports.runs.items.size).toBe(1);
  });

  it("answers a redelivery with the first delivery's run, however many come at once", async () => {
    const delivery = signedDelivery(githubPush, SECRET);

    const outcomes = await Promise.all(Array.from({ length: 10 }, () => receive(delivery)));

    const started = outcomes.filter((o) => o.kind === "started");
    expect(started).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === "duplicate")).toEqual(
      Array(9).fill(expect.objectContaining({ runId: (started[0] as { runId: string }).runId })),
    );
    expect(ports.runs.items.size).toBe(1);
  });
});

describe("a replayed payload", () => {
  it("starts nothing when the same signed bytes come again under another delivery id", async () => {
    const first = signedDelivery(githubPush, SECRET, "delivery-1");
    const replay = signedDelivery(githubPush, SECRET, "delivery-2");

    const original = await receive(first);
    const replayed = await receive(replay);

    expect(original.kind).toBe("started");
    expect(replayed).toMatchObject({
      kind: "duplicate",
      runId: (original as { runId: string }).runId,
      replayOf: "delivery-1",
    });
    expect(ports.runs.items.size).toBe(1);
  });

  it("is how Gitea redelivers: the same bytes under a new id answer with the first run", async () => {
    const gitea = pushSample("gitea", "branch");
    const first = await receive(signedDelivery(gitea, SECRET, "gitea-1"));

    const redelivered = await receive(signedDelivery(gitea, SECRET, "gitea-2"));

    expect(redelivered).toEqual({
      kind: "duplicate",
      deliveryId: "gitea-2",
      runId: (first as { runId: string }).runId,
      replayOf: "gitea-1",
    });
  });

  it.each(["gitlab", "bitbucket"] as const)(
    "starts a run again for the same %s bytes, whose bodies carry no push time",
    async (provider) => {
      const sample = pushSample(provider, "branch");

      const first = await receive(signedDelivery(sample, SECRET, "push-1"));
      const again = await receive(signedDelivery(sample, SECRET, "push-2"));

      expect([first.kind, again.kind]).toEqual(["started", "started"]);
      expect(ports.runs.items.size).toBe(2);
    },
  );

  it("still starts a run for another push under another delivery id", async () => {
    const other = JSON.parse(githubPush.rawBody);
    other.after = "ab".repeat(20);
    other.head_commit.id = "ab".repeat(20);

    await receive(signedDelivery(githubPush, SECRET, "delivery-1"));
    const second = await receive(
      signedDelivery({ ...githubPush, rawBody: JSON.stringify(other) }, SECRET, "delivery-2"),
    );

    expect(second.kind).toBe("started");
    expect(ports.runs.items.size).toBe(2);
  });
});
