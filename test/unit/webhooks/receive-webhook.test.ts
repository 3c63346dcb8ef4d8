import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { PayloadTooLargeError, UnauthorizedError } from "../../../domain/errors";
import type { LifecycleEvent } from "../../../domain/lifecycle-events";
import type {
  DeliveryKey,
  DeliveryRecord,
  DeliveryRepository,
  WebhookSecretRepository,
} from "../../../domain/ports";
import type { Run } from "../../../domain/run";
import type { Provider } from "../../../domain/webhooks/change";
import {
  MAX_WEBHOOK_BODY_BYTES,
  type ReceiveWebhookPorts,
  receiveWebhook,
} from "../../../usecases/receive-webhook";
import { MemoryApps, MemoryExecutions, MemoryQueue, MemoryRuns } from "../../support/fakes";
import { type Delivery, pushSample, sign, signedDelivery, unsigned } from "../../support/webhooks";

const SECRET = "the-apps-secret";
const PROVIDERS: Provider[] = ["github", "gitlab", "bitbucket", "gitea"];

class MemorySecrets implements WebhookSecretRepository {
  reads = 0;
  readonly items = new Map<string, string>();
  async get(app: string) {
    this.reads += 1;
    return this.items.get(app);
  }
  async put(app: string, secret: string) {
    this.items.set(app, secret);
  }
}

/** The DynamoDB conditions of adapters/delivery-log.ts, in memory. */
class MemoryDeliveries implements DeliveryRepository {
  readonly items = new Map<string, DeliveryRecord>();
  /** Payload digest → the delivery that brought it. */
  readonly payloads = new Map<string, string>();
  async claim(record: DeliveryRecord) {
    if (this.items.has(keyOf(record))) return false;
    this.items.set(keyOf(record), record);
    return true;
  }
  async claimPayload(record: DeliveryRecord) {
    const holder = this.payloads.get(record.payloadSha256);
    if (holder !== undefined && holder !== record.deliveryId) return holder;
    this.payloads.set(record.payloadSha256, record.deliveryId);
    return undefined;
  }
  async get(key: DeliveryKey) {
    return this.items.get(keyOf(key));
  }
  async release(record: DeliveryRecord) {
    if (this.payloads.get(record.payloadSha256) === record.deliveryId) {
      this.payloads.delete(record.payloadSha256);
    }
    if (this.items.get(keyOf(record))?.runId === record.runId) this.items.delete(keyOf(record));
  }
  async reassign(record: DeliveryRecord, runId: string) {
    const held = this.items.get(keyOf(record));
    if (held?.runId !== record.runId) return false;
    this.items.set(keyOf(record), { ...held, runId });
    return true;
  }
}

function keyOf({ app, provider, deliveryId }: DeliveryKey) {
  return `${app}#${provider}#${deliveryId}`;
}

/**
 * Runs whose next creation fails the way a throttled or unreachable table would, or goes
 * through with its answer lost, as when the function dies right after the write.
 */
class FlakyRuns extends MemoryRuns {
  failNextCreate = false;
  loseNextCreateAnswer = false;
  override async create(run: Run, events: readonly LifecycleEvent[]) {
    if (this.failNextCreate) {
      this.failNextCreate = false;
      throw new Error("DynamoDB is unavailable");
    }
    await super.create(run, events);
    if (this.loseNextCreateAnswer) {
      this.loseNextCreateAnswer = false;
      throw new Error("the function died after recording the run");
    }
  }
}

let time = Date.parse("2026-03-01T12:00:00Z");
let ports: ReceiveWebhookPorts & {
  runs: FlakyRuns;
  secrets: MemorySecrets;
  deliveries: MemoryDeliveries;
  executions: MemoryExecutions;
};

beforeEach(async () => {
  time = Date.parse("2026-03-01T12:00:00Z");
  ports = {
    apps: new MemoryApps(),
    runs: new FlakyRuns(),
    queue: new MemoryQueue(),
    executions: new MemoryExecutions(),
    clock: { now: () => new Date(time) },
    secrets: new MemorySecrets(),
    deliveries: new MemoryDeliveries(),
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
          expect(ports.deliveries.items.size).toBe(0);
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

  it("refuses a commit that is not a full hex sha with 400, and claims nothing", async () => {
    const payload = JSON.parse(githubPush.rawBody);
    payload.head_commit.id = "HEAD";
    const delivery = signedDelivery({ ...githubPush, rawBody: JSON.stringify(payload) }, SECRET);

    await expect(receive(delivery)).rejects.toMatchObject({
      kind: "InvalidInput",
      message: expect.stringMatching(/commit must be a full hex sha/),
    });
    expect(ports.deliveries.items.size).toBe(0);
  });
});

describe("a delivery whose run does not start", () => {
  it("gives its claim back when the run was never recorded, so a retry starts it", async () => {
    const delivery = signedDelivery(githubPush, SECRET);
    ports.runs.failNextCreate = true;

    await expect(receive(delivery)).rejects.toThrow(/unavailable/);
    const retried = await receive(delivery);

    expect(retried.kind).toBe("started");
    expect(ports.runs.items.size).toBe(1);
  });

  it("answers 503 when its pipeline failed to start, and the host's retry starts a new run", async () => {
    const delivery = signedDelivery(githubPush, SECRET);
    ports.executions.failNext = true;

    await expect(receive(delivery)).rejects.toMatchObject({
      kind: "Transient",
      message: expect.stringMatching(/pipeline could not start run \w+, which is marked FAILED/),
    });
    const [failed] = ports.runs.items.values();
    const retried = await receive(delivery);
    const again = await receive(delivery);

    expect(failed?.status).toBe("FAILED");
    expect(retried).toMatchObject({ kind: "started", status: "QUEUED" });
    expect(retried).not.toMatchObject({ runId: failed?.id });
    expect(again).toMatchObject({ kind: "duplicate", runId: (retried as { runId: string }).runId });
    expect(ports.executions.started).toEqual([(retried as { runId: string }).runId]);
  });

  it("answers 503 in queued mode too, rather than 202 for a run that failed", async () => {
    await useExecutionMode("queued");
    const delivery = signedDelivery(githubPush, SECRET);
    ports.executions.failNext = true;

    await expect(receive(delivery)).rejects.toMatchObject({ kind: "Transient" });
    const retried = await receive(delivery);

    expect(retried).toMatchObject({ kind: "started" });
    expect(ports.executions.started).toEqual([(retried as { runId: string }).runId]);
  });

  it("is let in by a redelivery when the first attempt recorded its run but stopped there", async () => {
    const delivery = signedDelivery(githubPush, SECRET);
    ports.runs.loseNextCreateAnswer = true;
    await expect(
      receiveWebhook(ports, {
        provider: "github",
        app: "shop",
        headers: delivery.headers,
        body: Buffer.from(delivery.body),
      }),
    ).rejects.toThrow(/died after recording/);
    const [stuck] = ports.runs.items.values();

    const redelivered = await receive(delivery);

    expect(stuck?.status).toBe("QUEUED");
    expect(redelivered).toMatchObject({ kind: "duplicate", runId: stuck?.id });
    expect(ports.executions.started).toEqual([stuck?.id]);
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
    expect(ports.deliveries.items.size).toBe(1);
  });

  it("is how Gitea redelivers: it finishes what the first attempt left, a 503 included", async () => {
    const gitea = pushSample("gitea", "branch");
    ports.executions.failNext = true;
    await expect(receive(signedDelivery(gitea, SECRET, "gitea-1"))).rejects.toMatchObject({
      kind: "Transient",
    });

    const redelivered = await receive(signedDelivery(gitea, SECRET, "gitea-2"));

    expect(redelivered).toMatchObject({ kind: "started", deliveryId: "gitea-2" });
    expect(ports.executions.started).toEqual([(redelivered as { runId: string }).runId]);
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

async function useExecutionMode(executionMode: "queued" | "superseded" | "parallel") {
  const app = await ports.apps.get("shop");
  if (app) await ports.apps.put({ ...app, pipeline: { ...app.pipeline, executionMode } });
}

describe("an abandoned claim", () => {
  function abandonedClaim(deliveryId: string, ageMs: number): DeliveryRecord {
    const record = {
      app: "shop",
      provider: "github",
      deliveryId,
      runId: "01JNH0000000000000000ABCDE",
      payloadSha256: "0".repeat(64),
      receivedAt: new Date(time - ageMs).toISOString(),
      expiresAt: Math.floor(time / 1000),
    };
    ports.deliveries.items.set(keyOf(record), record);
    return record;
  }

  it("is taken over by exactly one of many concurrent redeliveries", async () => {
    const delivery = signedDelivery(githubPush, SECRET);
    const claim = abandonedClaim(delivery.headers["x-github-delivery"] ?? "", 61_000);

    const outcomes = await Promise.all(Array.from({ length: 10 }, () => receive(delivery)));

    expect(outcomes.filter((o) => o.kind === "started")).toEqual([
      expect.objectContaining({ runId: claim.runId }),
    ]);
    expect(outcomes.filter((o) => o.kind === "duplicate")).toHaveLength(9);
    expect([...ports.runs.items.keys()]).toEqual([claim.runId]);
  });

  it("is not one until a minute has passed", async () => {
    const delivery = signedDelivery(githubPush, SECRET);
    const claim = abandonedClaim(delivery.headers["x-github-delivery"] ?? "", 60_000);

    const outcome = await receive(delivery);

    expect(outcome).toMatchObject({ kind: "duplicate", runId: claim.runId });
    expect(ports.runs.items.size).toBe(0);
  });
});
