import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoGroupLocks } from "../../adapters/holds";
import { loadServerlessConfig } from "../../local/serverless-config";
import {
  createSluiceLikeTable,
  recordingConsumer,
  startTestDynamoDb,
  TABLE,
} from "../support/local-dynamodb";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

let db: Awaited<ReturnType<typeof startTestDynamoDb>>;

beforeAll(async () => {
  db = await startTestDynamoDb();
  await createSluiceLikeTable(db.client);
});
afterAll(() => db.cleanup());

const group = { application: "shop", deploymentGroup: "prod" };
const lock = (holder: string) => ({
  ...group,
  holder,
  app: "shop",
  step: "production/wave-1",
  leaseUntil: "2026-01-01T00:05:00.000Z",
});
const NOW = "2026-01-01T00:00:00.000Z";

describe("a deployment group's release, as holdsReleased's stream filter sees it", () => {
  it("wakes the function only when a wave waited for the group", async () => {
    // Prepare: holdsReleased's own filter, from serverless.yml.
    const config = await loadServerlessConfig(ROOT);
    const consumer = config.streamConsumers.find((c) => c.functionName === "holdsReleased");
    const woken = recordingConsumer(db, { filterPatterns: consumer?.filterPatterns ?? [] });
    const locks = new DynamoGroupLocks(db.doc, TABLE);

    // Act: a release nobody waited for, then one a wave waited for, the holder having taken
    // the group again meanwhile (its deploy task run twice).
    await locks.acquire(lock("01JRUNA"), NOW);
    await locks.release(group, "01JRUNA");
    await locks.acquire(lock("01JRUNB"), NOW);
    const noted = await locks.watch(group, "01JRUNB");
    const notHolding = await locks.watch(group, "01JRUNA");
    await locks.acquire(lock("01JRUNB"), NOW);
    await locks.release(group, "01JRUNB");
    await db.streams.idle();

    // Assess
    expect([noted, notHolding]).toEqual([true, false]);
    expect(
      woken.records().map((r) => [r.eventName, r.dynamodb?.OldImage?.holder?.S ?? ""]),
    ).toEqual([["REMOVE", "01JRUNB"]]);
  });
});
