import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateTableCommand,
} from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  PutCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import {
  createSluiceLikeTable,
  recordingConsumer,
  TABLE,
  useTestDynamoDbs,
} from "../support/local-dynamodb";
import { waitFor } from "../support/local-stack";

// biome-ignore lint/suspicious/noExplicitAny: wire answers are read loosely and asserted on
type Json = any;

const startTestDynamoDb = useTestDynamoDbs();

async function started() {
  const db = await startTestDynamoDb();
  await createSluiceLikeTable(db.client);
  return db;
}

const put = (pk: string, n: number) =>
  new PutCommand({ TableName: TABLE, Item: { pk, sk: "item", n } });

describe("DynamoDB Streams on the local DynamoDB", () => {
  it("describes the stream of a table created with one, and of one that enables it later", async () => {
    // Prepare
    const db = await started();
    const second = `${TABLE}-later`;
    await db.client.send(
      new CreateTableCommand({
        TableName: second,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      }),
    );

    // Act
    const first = await db.client.send(new DescribeTableCommand({ TableName: TABLE }));
    const before = await db.client.send(new DescribeTableCommand({ TableName: second }));
    const updated = await db.client.send(
      new UpdateTableCommand({
        TableName: second,
        StreamSpecification: { StreamEnabled: true, StreamViewType: "KEYS_ONLY" },
      }),
    );

    // Assess
    expect(first.Table?.StreamSpecification).toEqual({
      StreamEnabled: true,
      StreamViewType: "NEW_AND_OLD_IMAGES",
    });
    expect(first.Table?.LatestStreamArn).toBe(
      `arn:aws:dynamodb:us-east-1:000000000000:table/${TABLE}/stream/${first.Table?.LatestStreamLabel}`,
    );
    expect(before.Table?.LatestStreamArn).toBeUndefined();
    expect(updated.TableDescription?.StreamSpecification?.StreamViewType).toBe("KEYS_ONLY");
  });

  it("delivers INSERT, MODIFY and REMOVE records in order, in batches, shaped as Lambda's event", async () => {
    // Prepare: 25 writes before the consumer subscribes, so its batches are full ones.
    const db = await started();
    for (let i = 0; i < 12; i++) await db.doc.send(put(`k${i % 4}`, i));
    await db.doc.send(put("k0", 8)); // the same item again: no change, no record
    await db.doc.send(new DeleteCommand({ TableName: TABLE, Key: { pk: "k1", sk: "item" } }));
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: TABLE, Item: { pk: "t1", sk: "item", n: 1 } } },
          {
            Update: {
              TableName: TABLE,
              Key: { pk: "k2", sk: "item" },
              UpdateExpression: "SET n = :n",
              ExpressionAttributeValues: { ":n": 100 },
            },
          },
        ],
      }),
    );

    // Act
    const consumer = recordingConsumer(db, { batchSize: 5 });
    await db.streams.idle();

    // Assess
    const records = consumer.records();
    expect(consumer.events.map((e) => e.Records.length)).toEqual([5, 5, 5]);
    expect(records.map((r) => `${r.eventName} ${r.dynamodb?.Keys?.pk?.S}`)).toEqual([
      ...["k0", "k1", "k2", "k3"].map((k) => `INSERT ${k}`),
      ...Array.from({ length: 8 }, (_, i) => `MODIFY k${i % 4}`),
      "REMOVE k1",
      "INSERT t1",
      "MODIFY k2",
    ]);
    const sequence = records.map((r) => r.dynamodb?.SequenceNumber ?? "");
    expect([...sequence].sort()).toEqual(sequence);
    expect(new Set(sequence).size).toBe(sequence.length);
    const modify = records[4];
    expect(modify).toMatchObject({
      eventName: "MODIFY",
      eventVersion: "1.1",
      eventSource: "aws:dynamodb",
      awsRegion: "us-east-1",
      eventSourceARN: expect.stringContaining(`table/${TABLE}/stream/`),
      dynamodb: {
        Keys: { pk: { S: "k0" }, sk: { S: "item" } },
        NewImage: { pk: { S: "k0" }, sk: { S: "item" }, n: { N: "4" } },
        OldImage: { pk: { S: "k0" }, sk: { S: "item" }, n: { N: "0" } },
        StreamViewType: "NEW_AND_OLD_IMAGES",
      },
    });
    expect(modify?.eventID).toMatch(/^[0-9a-f]{32}$/);
    expect(modify?.dynamodb?.SizeBytes).toBeGreaterThan(0);
    expect(modify?.dynamodb?.ApproximateCreationDateTime).toBeCloseTo(Date.now() / 1000, -2);
    expect(records[12]?.dynamodb?.NewImage).toBeUndefined();
  });

  it("takes BatchWriteItem's puts and deletes onto the stream, and answers BatchGetItem and a paged Scan", async () => {
    // Prepare
    const db = await started();
    await db.doc.send(put("b-gone", 0));
    await db.doc.send(put("b-kept", 0));

    // Act
    await db.doc.send(
      new BatchWriteCommand({
        RequestItems: {
          [TABLE]: [
            { PutRequest: { Item: { pk: "b-new", sk: "item", n: 1 } } },
            { PutRequest: { Item: { pk: "b-kept", sk: "item", n: 2 } } },
            { DeleteRequest: { Key: { pk: "b-gone", sk: "item" } } },
          ],
        },
      }),
    );
    const twice = await db.doc
      .send(
        new BatchWriteCommand({
          RequestItems: {
            [TABLE]: [
              { PutRequest: { Item: { pk: "b-dup", sk: "item", n: 1 } } },
              { DeleteRequest: { Key: { pk: "b-dup", sk: "item" } } },
            ],
          },
        }),
      )
      .catch((err: Error) => err);
    const { Responses } = await db.doc.send(
      new BatchGetCommand({
        RequestItems: {
          [TABLE]: { Keys: ["b-new", "b-kept", "b-gone"].map((pk) => ({ pk, sk: "item" })) },
        },
      }),
    );
    const pages: string[][] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await db.doc.send(
        new ScanCommand({ TableName: TABLE, Limit: 1, ExclusiveStartKey: start }),
      );
      pages.push((page.Items ?? []).map((item) => String(item.pk)));
      start = page.LastEvaluatedKey;
    } while (start);
    const consumer = recordingConsumer(db);
    await db.streams.idle();

    // Assess
    expect(twice).toMatchObject({ name: "ValidationException" });
    expect(Responses?.[TABLE]?.map((item) => [item.pk, item.n]).sort()).toEqual([
      ["b-kept", 2],
      ["b-new", 1],
    ]);
    expect(pages.flat().sort()).toEqual(["b-kept", "b-new"]);
    expect(pages.filter((page) => page.length > 0).every((page) => page.length === 1)).toBe(true);
    expect(consumer.records().map((r) => `${r.eventName} ${r.dynamodb?.Keys?.pk?.S}`)).toEqual([
      "INSERT b-gone",
      "INSERT b-kept",
      "INSERT b-new",
      "MODIFY b-kept",
      "REMOVE b-gone",
    ]);
  });

  it("retries a failing batch with the same records, and skips it after maximumRetryAttempts", async () => {
    // Prepare
    const db = await started();
    for (let i = 0; i < 4; i++) await db.doc.send(put(`r${i}`, i));

    // Act: the first batch (r0, r1) fails every time; the second succeeds.
    const consumer = recordingConsumer(db, { batchSize: 2, maximumRetryAttempts: 2 }, (event) => {
      if (event.Records[0]?.dynamodb?.Keys?.pk?.S === "r0") throw new Error("downstream is down");
    });
    await db.streams.idle();

    // Assess
    const firstKeys = consumer.events.map((e) => e.Records.map((r) => r.dynamodb?.Keys?.pk?.S));
    expect(firstKeys).toEqual([
      ["r0", "r1"],
      ["r0", "r1"],
      ["r0", "r1"],
      ["r2", "r3"],
    ]);
    const ids = consumer.events.slice(0, 3).map((e) => e.Records.map((r) => r.eventID).join());
    expect(new Set(ids).size).toBe(1);
  });

  it("retries only from the first failed record when the function reports batch item failures", async () => {
    // Prepare
    const db = await started();
    for (let i = 0; i < 6; i++) await db.doc.send(put(`f${i}`, i));

    // Act: the first time, f2 and f4 fail.
    const consumer = recordingConsumer(
      db,
      { batchSize: 6, reportBatchItemFailures: true },
      (event, attempt) =>
        attempt === 1
          ? {
              batchItemFailures: [event.Records[4], event.Records[2]].map((r) => ({
                itemIdentifier: r?.dynamodb?.SequenceNumber,
              })),
            }
          : { batchItemFailures: [] },
    );
    await db.streams.idle();

    // Assess
    expect(consumer.events.map((e) => e.Records.map((r) => r.dynamodb?.Keys?.pk?.S))).toEqual([
      ["f0", "f1", "f2", "f3", "f4", "f5"],
      ["f2", "f3", "f4", "f5"],
    ]);
  });

  it("delivers only the records a filter pattern matches", async () => {
    // Prepare
    const db = await started();
    await db.doc.send(put("e1", 1));
    await db.doc.send(
      new UpdateCommand({
        TableName: TABLE,
        Key: { pk: "e1", sk: "item" },
        UpdateExpression: "SET n = :two",
        ExpressionAttributeValues: { ":two": 2 },
      }),
    );
    await db.doc.send(
      new PutCommand({ TableName: TABLE, Item: { pk: "e2", sk: "item", kind: "outbox" } }),
    );

    // Act
    const consumer = recordingConsumer(db, {
      filterPatterns: [
        { eventName: ["INSERT"], dynamodb: { NewImage: { kind: { S: ["outbox"] } } } },
      ],
    });
    await db.streams.idle();

    // Assess
    expect(consumer.records().map((r) => r.dynamodb?.Keys?.pk?.S)).toEqual(["e2"]);
  });

  it("batches the records a filter matches across those it leaves out, as Lambda does", async () => {
    // Prepare: records that match and records that do not, interleaved.
    const db = await started();
    const outbox = (pk: string) =>
      new PutCommand({ TableName: TABLE, Item: { pk, sk: "item", kind: "outbox" } });
    for (const i of [1, 2, 3]) {
      await db.doc.send(outbox(`e${i}`));
      await db.doc.send(put(`x${i}`, i));
    }

    // Act
    const consumer = recordingConsumer(db, {
      batchSize: 10,
      filterPatterns: [{ dynamodb: { NewImage: { kind: { S: ["outbox"] } } } }],
    });
    await db.streams.idle();

    // Assess
    expect(consumer.events.map((e) => e.Records.map((r) => r.dynamodb?.Keys?.pk?.S))).toEqual([
      ["e1", "e2", "e3"],
    ]);
  });

  it("refuses a filter pattern with a content filter it cannot match, rather than skip records", async () => {
    // Prepare
    const db = await started();

    // Act
    const subscribing = () =>
      recordingConsumer(db, {
        filterPatterns: [{ dynamodb: { Keys: { pk: { S: [{ "anything-but": "OUTBOX" }] } } } }],
      });

    // Assess
    expect(subscribing).toThrow(/content filter/);
  });

  it("keeps records and each consumer's checkpoint across a restart", async () => {
    // Prepare: a consumer takes the first two records, then the stack stops with two more
    // unread.
    const first = await started();
    const dir = first.dir;
    const seen: string[] = [];
    first.streams.subscribe({ id: "keeper", tableName: TABLE, batchSize: 1 }, async (event) => {
      seen.push(event.Records[0]?.dynamodb?.Keys?.pk?.S ?? "");
    });
    await first.doc.send(put("s0", 0));
    await first.doc.send(put("s1", 1));
    await waitFor(async () => (seen.length === 2 ? true : undefined));
    await first.streams.close();
    await first.doc.send(put("s2", 2));
    await first.doc.send(put("s3", 3));
    await first.close();

    // Act
    const db = await startTestDynamoDb({ dir });
    db.streams.subscribe({ id: "keeper", tableName: TABLE }, async (event) => {
      seen.push(...event.Records.map((r) => r.dynamodb?.Keys?.pk?.S ?? ""));
    });
    await db.doc.send(put("s4", 4));
    await waitFor(async () => (seen.length === 5 ? true : undefined));

    // Assess
    expect(seen).toEqual(["s0", "s1", "s2", "s3", "s4"]);
  });

  it("answers the DynamoDB Streams API: ListStreams, DescribeStream, GetShardIterator, GetRecords", async () => {
    // Prepare: no DynamoDB Streams SDK client is installed, so these are DynamoDB Streams'
    // JSON protocol posted as it is on the wire.
    const db = await started();
    const streams = async (operation: string, body: unknown) => {
      const res = await fetch(db.endpoint, {
        method: "POST",
        headers: {
          "content-type": "application/x-amz-json-1.0",
          "x-amz-target": `DynamoDBStreams_20120810.${operation}`,
        },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Json };
    };
    for (let i = 0; i < 3; i++) await db.doc.send(put(`g${i}`, i));

    // Act
    const listed = await streams("ListStreams", { TableName: TABLE });
    const arn = listed.body.Streams[0].StreamArn;
    const described = await streams("DescribeStream", { StreamArn: arn });
    const shard = described.body.StreamDescription.Shards[0].ShardId;
    const iterator = await streams("GetShardIterator", {
      StreamArn: arn,
      ShardId: shard,
      ShardIteratorType: "TRIM_HORIZON",
    });
    const page1 = await streams("GetRecords", {
      ShardIterator: iterator.body.ShardIterator,
      Limit: 2,
    });
    const page2 = await streams("GetRecords", { ShardIterator: page1.body.NextShardIterator });
    const page3 = await streams("GetRecords", { ShardIterator: page2.body.NextShardIterator });
    const unknown = await streams("DescribeStream", { StreamArn: `${arn}x` });

    // Assess
    expect(listed.body.Streams).toEqual([
      { StreamArn: arn, TableName: TABLE, StreamLabel: expect.any(String) },
    ]);
    expect(described.body.StreamDescription).toMatchObject({
      StreamArn: arn,
      StreamStatus: "ENABLED",
      StreamViewType: "NEW_AND_OLD_IMAGES",
      TableName: TABLE,
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
    });
    const keys = (page: { body: Json }) =>
      page.body.Records.map(
        (r: { dynamodb: { Keys: { pk: { S: string } } } }) => r.dynamodb.Keys.pk.S,
      );
    expect(keys(page1)).toEqual(["g0", "g1"]);
    expect(keys(page2)).toEqual(["g2"]);
    expect(keys(page3)).toEqual([]);
    expect(page1.body.Records[0]).toMatchObject({
      eventName: "INSERT",
      eventSource: "aws:dynamodb",
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.__type).toContain("ResourceNotFoundException");
  });
});
