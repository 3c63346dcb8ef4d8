import { createServer } from "node:net";
import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import {
  createSluiceLikeTable,
  recordingConsumer,
  TABLE,
  useTestDynamoDbs,
} from "../support/local-dynamodb";

const startTestDynamoDb = useTestDynamoDbs();

describe("the local DynamoDB on a thread of its own, as npm start runs it", () => {
  it("answers the SDK, hands its stream to a consumer here, sweeps and keeps its data over a restart", async () => {
    // Prepare
    let db = await startTestDynamoDb({ thread: true });
    await createSluiceLikeTable(db.client);
    const consumer = recordingConsumer(db, { batchSize: 10 }, (_, attempt) =>
      // The first batch fails once: the thread must hear the consumer's failure and redeliver.
      attempt === 1 ? Promise.reject(new Error("consumer down")) : undefined,
    );
    const past = Math.floor(Date.now() / 1000) - 60;

    // Act
    await db.doc.send(new PutCommand({ TableName: TABLE, Item: { pk: "a", sk: "1", n: 1 } }));
    await db.doc.send(new PutCommand({ TableName: TABLE, Item: { pk: "a", sk: "2", n: 2 } }));
    await db.doc.send(
      new PutCommand({ TableName: TABLE, Item: { pk: "gone", sk: "x", expiresAt: past } }),
    );
    await db.doc.send(new DeleteCommand({ TableName: TABLE, Key: { pk: "a", sk: "1" } }));
    const swept = await db.sweepExpired();
    await db.streams.idle();
    const dir = db.dir;
    await db.close();
    db = await startTestDynamoDb({ thread: true, dir });
    const after = await db.doc.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": "a" },
      }),
    );
    const gone = await db.doc.send(
      new GetCommand({ TableName: TABLE, Key: { pk: "gone", sk: "x" } }),
    );

    // Assess
    expect(swept).toBe(1);
    const delivered = consumer.records().map((r) => `${r.eventName} ${r.dynamodb?.Keys?.pk?.S}`);
    // The failed batch came again whole, then the TTL delete, in the order written.
    expect(delivered.slice(-5)).toEqual([
      "INSERT a",
      "INSERT a",
      "INSERT gone",
      "REMOVE a",
      "REMOVE gone",
    ]);
    // The first batch's records were handed twice: its failure crossed back to the thread.
    expect(delivered.length).toBeGreaterThan(5);
    expect(after.Items).toEqual([{ pk: "a", sk: "2", n: 2 }]);
    expect(gone.Item).toBeUndefined();
  });

  it("fails to start with the port's own error when its port is taken", async () => {
    // Prepare
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;

    // Act
    const starting = startTestDynamoDb({ thread: true, port });

    // Assess
    await expect(starting).rejects.toMatchObject({ code: "EADDRINUSE" });
    await new Promise((resolve) => taken.close(resolve));
  });
});
