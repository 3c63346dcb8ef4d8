import { DescribeTimeToLiveCommand, UpdateTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import {
  createSluiceLikeTable,
  recordingConsumer,
  TABLE,
  type TestDynamoDb,
  useTestDynamoDbs,
} from "../support/local-dynamodb";

const startTestDynamoDb = useTestDynamoDbs();
let db: TestDynamoDb | undefined;

const now = () => Math.floor(Date.now() / 1000);
const item = (pk: string, expiresAt?: number) =>
  new PutCommand({
    TableName: TABLE,
    Item: { pk, sk: "item", gsi1pk: "app", gsi1sk: pk, ...(expiresAt ? { expiresAt } : {}) },
  });
const get = async (pk: string) =>
  (await db?.doc.send(new GetCommand({ TableName: TABLE, Key: { pk, sk: "item" } })))?.Item;

describe("time to live on the local DynamoDB", () => {
  it("is described once enabled, and refused twice", async () => {
    // Prepare
    db = await startTestDynamoDb();
    await createSluiceLikeTable(db.client, { ttl: false });
    const before = await db.client.send(new DescribeTimeToLiveCommand({ TableName: TABLE }));

    // Act
    const enable = new UpdateTimeToLiveCommand({
      TableName: TABLE,
      TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
    });
    const answer = await db.client.send(enable);
    const again = await db.client.send(enable).catch((err: unknown) => err);
    const after = await db.client.send(new DescribeTimeToLiveCommand({ TableName: TABLE }));

    // Assess
    expect(before.TimeToLiveDescription).toEqual({ TimeToLiveStatus: "DISABLED" });
    expect(answer.TimeToLiveSpecification).toEqual({ AttributeName: "expiresAt", Enabled: true });
    expect((again as Error).name).toBe("ValidationException");
    expect(after.TimeToLiveDescription).toEqual({
      TimeToLiveStatus: "ENABLED",
      AttributeName: "expiresAt",
    });
  });

  it("deletes expired items in a sweep, each a REMOVE on the stream by DynamoDB itself", async () => {
    // Prepare
    db = await startTestDynamoDb();
    await createSluiceLikeTable(db.client);
    await db.doc.send(item("gone", now() - 60));
    await db.doc.send(item("later", now() + 3600));
    await db.doc.send(item("forever"));
    await db.doc.send(item("extended", now() - 60));
    await db.doc.send(
      new UpdateCommand({
        TableName: TABLE,
        Key: { pk: "extended", sk: "item" },
        UpdateExpression: "SET expiresAt = :later",
        ExpressionAttributeValues: { ":later": now() + 3600 },
      }),
    );
    const unsweptYet = await get("gone");

    // Act
    const deleted = await db.sweepExpired();
    const consumer = recordingConsumer(db, {
      filterPatterns: [{ eventName: ["REMOVE"] }],
    });
    await db.streams.idle();

    // Assess
    expect(unsweptYet).toBeDefined();
    expect(deleted).toBe(1);
    expect(await get("gone")).toBeUndefined();
    expect(await get("later")).toBeDefined();
    expect(await get("forever")).toBeDefined();
    expect(await get("extended")).toBeDefined();
    expect(consumer.records()).toEqual([
      expect.objectContaining({
        eventName: "REMOVE",
        userIdentity: { type: "Service", principalId: "dynamodb.amazonaws.com" },
        dynamodb: expect.objectContaining({
          Keys: { pk: { S: "gone" }, sk: { S: "item" } },
          OldImage: expect.objectContaining({ pk: { S: "gone" } }),
        }),
      }),
    ]);
  });

  it("sweeps items written before a restart, found by the start-up scan", async () => {
    // Prepare
    const first = await startTestDynamoDb();
    await createSluiceLikeTable(first.client);
    await first.doc.send(item("old-1", now() + 10));
    await first.doc.send(item("old-2", now() + 10));
    await first.doc.send(item("young", now() + 3600));
    await first.close();

    // Act
    db = await startTestDynamoDb({ dir: first.dir });
    const deleted = await db.sweepExpired(Date.now() + 60_000);

    // Assess
    expect(deleted).toBe(2);
    expect(await get("old-1")).toBeUndefined();
    expect(await get("young")).toBeDefined();
  });
});
