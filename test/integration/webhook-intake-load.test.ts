import { createHash, randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, paginateQuery } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack, waitFor } from "../support/local-stack";
import {
  appWithSecret,
  type Delivery,
  deliver,
  pushSample,
  signedDelivery,
  withDeliveryId,
} from "../support/webhooks";

/**
 * Many deliveries at once, as a busy git host sends them: `npm test` sends a few hundred;
 * `npm run soak` sets SLUICE_INTAKE_LOAD_DELIVERIES to 1,000.
 */
const DELIVERIES = Number(process.env.SLUICE_INTAKE_LOAD_DELIVERIES ?? 300);
const SENDERS = 32;
/** Share of deliveries that are a host's redelivery: the same delivery id and body again. */
const REDELIVERED = 0.3;
/** Share that are replays: a body sent before, under a new delivery id. */
const REPLAYED = 0.05;

let stack: Awaited<ReturnType<typeof startTestStack>>;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.cleanup());

/** `count` GitHub pushes, each of its own commit, signed with the app's secret. */
function uniquePushes(secret: string, count: number): Delivery[] {
  const sample = pushSample("github", "branch");
  const payload = JSON.parse(sample.rawBody);
  return Array.from({ length: count }, () => {
    const sha = createHash("sha1").update(randomUUID()).digest("hex");
    const body = { ...payload, after: sha, head_commit: { ...payload.head_commit, id: sha } };
    return signedDelivery({ ...sample, rawBody: JSON.stringify(body) }, secret);
  });
}

/** A deterministic shuffle, so a failure can be sent again in the same order. */
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  let seed = 7;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

async function sendAll(app: string, deliveries: readonly Delivery[]) {
  const answers: Awaited<ReturnType<typeof deliver>>[] = [];
  let next = 0;
  const sender = async () => {
    for (let i = next++; i < deliveries.length; i = next++) {
      answers.push(await deliver(stack, app, deliveries[i] as Delivery));
    }
  };
  await Promise.all(Array.from({ length: SENDERS }, sender));
  return answers;
}

/** The run lifecycle events of the app on the bus, as the event log holds them. */
async function eventsOf(app: string, detailType: string) {
  return (await stack.eventBridge.read()).flatMap((e) => {
    const detail = e.detail as { app?: string; runId?: string };
    return e["detail-type"] === detailType && detail.app === app ? [String(detail.runId)] : [];
  });
}

async function runIdsOf(app: string): Promise<string[]> {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const ids: string[] = [];
  for await (const page of paginateQuery(
    { client: doc },
    {
      TableName: stack.resources.table,
      IndexName: "byApp",
      KeyConditionExpression: "gsi1pk = :app",
      ExpressionAttributeValues: { ":app": `APP#${app}#RUNS` },
    },
  )) {
    for (const item of page.Items ?? []) ids.push(String(item.id));
  }
  return ids;
}

describe(`${DELIVERIES} webhook deliveries from ${SENDERS} senders`, () => {
  it(
    "start exactly the unique ones, each announced once, however they are redelivered and replayed",
    async () => {
      // Prepare: a queued app, so one run at a time goes on while the rest wait their turn
      const app = await appWithSecret(stack, "busy", "executionMode: queued\n");
      const redeliveries = Math.round(DELIVERIES * REDELIVERED);
      const replays = Math.round(DELIVERIES * REPLAYED);
      const unique = uniquePushes(app.secret, DELIVERIES - redeliveries - replays);
      const again = unique.slice(0, redeliveries);
      const replayed = unique
        .slice(redeliveries, redeliveries + replays)
        .map((d) => withDeliveryId(d, randomUUID()));
      const deliveries = shuffled([...unique, ...again, ...replayed]);

      // Act
      const answers = await sendAll(app.name, deliveries);

      // Assess: every delivery taken, and one run for each unique one
      expect(answers.filter((a) => a.status !== 202)).toEqual([]);
      const started = answers.filter((a) => a.body.started === true);
      expect(started).toHaveLength(unique.length);
      expect(answers.filter((a) => a.body.duplicate === true)).toHaveLength(redeliveries + replays);
      expect(answers.filter((a) => a.body.replayOf !== undefined).length).toBeGreaterThan(0);
      const runIds = new Set(started.map((a) => String(a.body.runId)));
      expect(new Set(await runIdsOf(app.name))).toEqual(runIds);
      for (const answer of answers) expect(runIds).toContain(answer.body.runId);

      // Each run's "Run Queued" event is on the bus once, and one run is let in
      const queued = await waitFor(
        async () => {
          const events = await eventsOf(app.name, "Run Queued");
          return events.length >= runIds.size ? events : undefined;
        },
        { what: "every run's Run Queued event", timeoutMs: 10_000 + 20 * DELIVERIES },
      );
      expect(queued.sort()).toEqual([...runIds].sort());
      const [first] = await waitFor(
        async () => {
          const ids = await eventsOf(app.name, "Run Started");
          return ids.length > 0 ? ids : undefined;
        },
        { what: "the first run to start" },
      );
      expect(runIds).toContain(first);
    },
    30_000 + 60 * DELIVERIES,
  );
});
