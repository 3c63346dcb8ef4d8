import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import {
  BatchWriteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
} from "@aws-sdk/client-dynamodb";
import dynalite from "dynalite";
import { listen } from "../local/aws-json-server";
import { startLocalDynamoDb } from "../local/dynamodb";
import { createSluiceLikeTable } from "../test/support/local-dynamodb";

/**
 * `npx tsx bench/local-dynamodb.ts`: what the local DynamoDB front costs over dynalite alone
 * (sequential PutItem and GetItem, on a plain table and on one with a stream and time to
 * live), a transaction's latency, and a time-to-live sweep over a table of ITEMS items.
 * Figures are printed; nothing here passes or fails.
 */
const ITEMS = Number(process.env.BENCH_ITEMS ?? 100_000);
const CALLS = 2000;
const credentials = { accessKeyId: "bench", secretAccessKey: "bench" };
const clientOf = (endpoint: string) =>
  new DynamoDBClient({ endpoint, region: "us-east-1", credentials });

const item = (i: number, expiresAt?: number) => ({
  pk: { S: `RUN#${i % 500}` },
  sk: { S: `STEP#${i}` },
  gsi1pk: { S: "APP#bench" },
  gsi1sk: { S: String(i).padStart(8, "0") },
  status: { S: "RUNNING" },
  ...(expiresAt ? { expiresAt: { N: String(expiresAt) } } : {}),
});

/** The best of three rounds, run in turn with the other cases: the machine is shared. */
async function perCall(cases: [string, (i: number) => Promise<unknown>][]) {
  const best = new Map<string, number>();
  for (let round = 0; round < 3; round++) {
    for (const [label, call] of cases) {
      const started = performance.now();
      for (let i = 0; i < CALLS; i++) await call(i);
      const ms = (performance.now() - started) / CALLS;
      best.set(label, Math.min(best.get(label) ?? Infinity, ms));
    }
  }
  for (const [label, ms] of best)
    process.stdout.write(`  ${label.padEnd(50)} ${ms.toFixed(3)} ms\n`);
}

const dir = await mkdtemp(path.join(tmpdir(), "sluice-bench-dynamodb-"));
const plain = dynalite({ path: path.join(dir, "dynalite"), createTableMs: 0 }) as Server;
const direct = clientOf(`http://127.0.0.1:${await listen(plain, 0)}`);
const db = await startLocalDynamoDb({ dir: path.join(dir, "front"), ttlSweepIntervalMs: 0 });
const front = clientOf(db.endpoint);
await createSluiceLikeTable(direct, { name: "plain", stream: false, ttl: false });
await createSluiceLikeTable(front, { name: "plain", stream: false, ttl: false });
await createSluiceLikeTable(front, { name: "observed" });

process.stdout.write("sequential calls, mean per call (best of 3 rounds)\n");
const targets = [
  ["dynalite alone", direct, "plain"],
  ["front, plain table", front, "plain"],
  ["front, table with stream + TTL", front, "observed"],
] as const;
await perCall(
  targets.map(([label, client, table]) => [
    `PutItem   ${label}`,
    (i) => client.send(new PutItemCommand({ TableName: table, Item: item(i) })),
  ]),
);
await perCall(
  targets.map(([label, client, table]) => [
    `GetItem   ${label}`,
    (i) =>
      client.send(
        new GetItemCommand({ TableName: table, Key: { pk: item(i).pk, sk: item(i).sk } }),
      ),
  ]),
);
await perCall([
  [
    "TransactWriteItems (2 Puts), stream + TTL table",
    (i) =>
      front.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: "observed", Item: item(i) } },
            { Put: { TableName: "observed", Item: { ...item(i), sk: { S: `EVENT#${i}` } } } },
          ],
        }),
      ),
  ],
]);

process.stdout.write(`\ntime to live over ${ITEMS} items (10 % of them expired)\n`);
const now = Math.floor(Date.now() / 1000);
const loadStarted = performance.now();
for (let i = 0; i < ITEMS; i += 25 * 8) {
  await Promise.all(
    Array.from({ length: 8 }, (_, b) =>
      front.send(
        new BatchWriteItemCommand({
          RequestItems: {
            observed: Array.from({ length: 25 }, (_, j) => {
              const n = i + b * 25 + j;
              return { PutRequest: { Item: item(n, n % 10 === 0 ? now - 60 : now + 3600) } };
            }),
          },
        }),
      ),
    ),
  );
}
const loadSeconds = (performance.now() - loadStarted) / 1000;
process.stdout.write(
  `  load through the front (BatchWriteItem)          ${(ITEMS / loadSeconds).toFixed(0)} items/s\n`,
);
let started = performance.now();
const deleted = await db.sweepExpired();
process.stdout.write(
  `  sweep deleting the expired                       ${(performance.now() - started).toFixed(0)} ms (${deleted} deleted)\n`,
);
started = performance.now();
await db.sweepExpired();
process.stdout.write(
  `  sweep with nothing due                           ${(performance.now() - started).toFixed(2)} ms\n`,
);
await db.close();
started = performance.now();
const reopened = await startLocalDynamoDb({ dir: path.join(dir, "front"), ttlSweepIntervalMs: 0 });
process.stdout.write(
  `  restart, with a stream log of ${ITEMS + 3 * 2 * CALLS} records      ${(performance.now() - started).toFixed(0)} ms\n`,
);
started = performance.now();
await reopened.sweepExpired();
process.stdout.write(
  `  index scan in the background, then a sweep       ${(performance.now() - started).toFixed(0)} ms\n`,
);
await reopened.close();
direct.destroy();
front.destroy();
await new Promise((resolve) => plain.close(resolve));
await rm(dir, { recursive: true, force: true });
