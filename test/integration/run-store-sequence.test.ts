import { PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunStore } from "../../adapters/run-store";
import type { LifecycleEvent } from "../../domain/lifecycle-events";
import type { RunTransition } from "../../domain/steps";
import { createSluiceLikeTable, startTestDynamoDb, TABLE } from "../support/local-dynamodb";

let db: Awaited<ReturnType<typeof startTestDynamoDb>>;

beforeAll(async () => {
  db = await startTestDynamoDb();
  await createSluiceLikeTable(db.client);
});
afterAll(() => db.cleanup());

const NOW = "2026-01-01T00:00:00.000Z";

/** A change that only announces `what`, while the run is RUNNING. */
function announcing(what: string): RunTransition {
  return {
    expect: { status: ["RUNNING"] },
    set: {},
    steps: [],
    events: [{ detailType: what, detail: { what } } as unknown as LifecycleEvent],
  };
}

async function outbox(runId: string): Promise<[number, string][]> {
  const { Items = [] } = await db.doc.send(
    new QueryCommand({
      TableName: TABLE,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :events)",
      ExpressionAttributeValues: { ":pk": `RUN#${runId}`, ":events": "EVENT#" },
    }),
  );
  return Items.map((i) => [i.detail.sequence as number, i.detailType as string]);
}

describe("a run's lifecycle events", () => {
  it("are numbered without gaps or repeats when another writer's events came in between", async () => {
    // Prepare: one store numbers its second change from what its first one wrote, while
    // another store's change took that number first.
    const runId = "01JSEQUENCE0000000000000000";
    await db.doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: { pk: `RUN#${runId}`, sk: "RUN", status: "RUNNING", app: "shop", sequence: 0 },
      }),
    );
    const first = new RunStore(db.doc, TABLE);
    const other = new RunStore(db.newClient(), TABLE);
    await first.apply(runId, announcing("first"), NOW);
    await other.apply(runId, announcing("other"), NOW);

    // Act
    await first.apply(runId, announcing("first again"), NOW);

    // Assess
    expect((await outbox(runId)).sort(([a], [b]) => a - b)).toEqual([
      [1, "first"],
      [2, "other"],
      [3, "first again"],
    ]);
  });
});
