import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from "@aws-sdk/client-dynamodb";
import {
  GetCommand,
  PutCommand,
  TransactGetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSluiceLikeTable, startTestDynamoDb, TABLE } from "../support/local-dynamodb";

let db: Awaited<ReturnType<typeof startTestDynamoDb>>;

beforeAll(async () => {
  db = await startTestDynamoDb();
  await createSluiceLikeTable(db.client);
});
afterAll(() => db.cleanup());

const key = (pk: string) => ({ pk, sk: "item" });
const get = async (pk: string) =>
  (await db.doc.send(new GetCommand({ TableName: TABLE, Key: key(pk) }))).Item;

describe("TransactWriteItems on the local DynamoDB", () => {
  it("applies a Put, an Update, a Delete and a ConditionCheck together", async () => {
    // Prepare
    await db.doc.send(new PutCommand({ TableName: TABLE, Item: { ...key("c-run"), version: 1 } }));
    await db.doc.send(new PutCommand({ TableName: TABLE, Item: { ...key("c-old"), n: 1 } }));
    await db.doc.send(new PutCommand({ TableName: TABLE, Item: { ...key("c-app"), open: true } }));

    // Act
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: TABLE,
              Key: key("c-run"),
              UpdateExpression: "SET version = version + :one",
              ConditionExpression: "version = :seen",
              ExpressionAttributeValues: { ":one": 1, ":seen": 1 },
            },
          },
          {
            Put: {
              TableName: TABLE,
              Item: { ...key("c-event"), type: "Run Started" },
              ConditionExpression: "attribute_not_exists(pk)",
            },
          },
          { Delete: { TableName: TABLE, Key: key("c-old") } },
          {
            ConditionCheck: {
              TableName: TABLE,
              Key: key("c-app"),
              ConditionExpression: "#open = :yes",
              ExpressionAttributeNames: { "#open": "open" },
              ExpressionAttributeValues: { ":yes": true },
            },
          },
        ],
      }),
    );

    // Assess
    expect(await get("c-run")).toMatchObject({ version: 2 });
    expect(await get("c-event")).toMatchObject({ type: "Run Started" });
    expect(await get("c-old")).toBeUndefined();
    expect(await get("c-app")).toEqual({ ...key("c-app"), open: true });
  });

  it("is cancelled whole by one failing condition, with a reason per item", async () => {
    // Prepare
    await db.doc.send(new PutCommand({ TableName: TABLE, Item: { ...key("x-run"), version: 5 } }));
    await db.doc.send(new PutCommand({ TableName: TABLE, Item: { ...key("x-old"), n: 1 } }));
    await db.doc.send(
      new PutCommand({ TableName: TABLE, Item: { ...key("x-slot"), holder: "a" } }),
    );

    // Act
    const error = await db.doc
      .send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: TABLE,
                Key: key("x-run"),
                UpdateExpression: "SET version = version + :one",
                ExpressionAttributeValues: { ":one": 1 },
              },
            },
            { Put: { TableName: TABLE, Item: { ...key("x-event"), type: "Run Started" } } },
            { Delete: { TableName: TABLE, Key: key("x-old") } },
            {
              Update: {
                TableName: TABLE,
                Key: key("x-slot"),
                UpdateExpression: "SET holder = :me",
                ConditionExpression: "holder = :nobody",
                ExpressionAttributeValues: { ":me": "b", ":nobody": "none" },
                ReturnValuesOnConditionCheckFailure: "ALL_OLD",
              },
            },
          ],
        }),
      )
      .catch((err: unknown) => err);

    // Assess
    expect(error).toBeInstanceOf(TransactionCanceledException);
    const reasons = (error as TransactionCanceledException).CancellationReasons;
    expect(reasons?.map((r) => r.Code)).toEqual(["None", "None", "None", "ConditionalCheckFailed"]);
    expect(reasons?.[3]?.Item).toEqual({
      pk: { S: "x-slot" },
      sk: { S: "item" },
      holder: { S: "a" },
    });
    expect((error as Error).message).toContain("ConditionalCheckFailed");
    expect(await get("x-run")).toEqual({ ...key("x-run"), version: 5 });
    expect(await get("x-event")).toBeUndefined();
    expect(await get("x-old")).toEqual({ ...key("x-old"), n: 1 });
    expect(await get("x-slot")).toEqual({ ...key("x-slot"), holder: "a" });
  });

  it("applies a request once per ClientRequestToken, and refuses the token with other parameters", async () => {
    // Prepare
    await db.doc.send(new PutCommand({ TableName: TABLE, Item: { ...key("t-count"), n: 0 } }));
    const increment = (by: number) =>
      new TransactWriteCommand({
        ClientRequestToken: "retry-me",
        TransactItems: [
          {
            Update: {
              TableName: TABLE,
              Key: key("t-count"),
              UpdateExpression: "SET n = n + :by",
              ExpressionAttributeValues: { ":by": by },
            },
          },
        ],
      });

    // Act
    await db.doc.send(increment(1));
    await db.doc.send(increment(1));
    const mismatch = await db.doc.send(increment(2)).catch((err: unknown) => err);

    // Assess
    expect(await get("t-count")).toMatchObject({ n: 1 });
    expect((mismatch as Error).name).toBe("IdempotentParameterMismatchException");
  });

  it("refuses two operations on one item, and a missing table", async () => {
    // Act
    const twice = await db.doc
      .send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: TABLE, Item: { ...key("d-1"), a: 1 } } },
            { Delete: { TableName: TABLE, Key: key("d-1") } },
          ],
        }),
      )
      .catch((err: unknown) => err);
    const missing = await db.doc
      .send(
        new TransactWriteCommand({
          TransactItems: [{ Put: { TableName: "no-such-table", Item: { ...key("d-2") } } }],
        }),
      )
      .catch((err: unknown) => err);

    // Assess
    expect((twice as Error).name).toBe("ValidationException");
    expect((twice as Error).message).toContain("multiple operations on one item");
    expect((missing as Error).name).toBe("ResourceNotFoundException");
    expect(await get("d-1")).toBeUndefined();
  });

  it("keeps two counters equal against concurrent transactions and plain conditional writes", async () => {
    // Prepare: transactions add one to both counters (some are cancelled by a failing
    // condition on the second, after the first was applied); plain writes touch the first
    // counter's item only. An undo that clobbered a plain write, or a read of half a
    // transaction, would show.
    await db.doc.send(
      new PutCommand({ TableName: TABLE, Item: { ...key("r-a"), n: 0, plain: 0 } }),
    );
    await db.doc.send(new PutCommand({ TableName: TABLE, Item: { ...key("r-b"), n: 0 } }));
    const clients = Array.from({ length: 12 }, () => db.newClient());
    let committed = 0;
    let plainWrites = 0;
    const unequalReads: unknown[] = [];

    // Act
    await Promise.all(
      clients.map(async (client, c) => {
        for (let i = 0; i < 20; i++) {
          const kind = (c + i) % 3;
          if (kind === 0) {
            const cancel = i % 4 === 0;
            try {
              await client.send(
                new TransactWriteCommand({
                  TransactItems: [
                    {
                      Update: {
                        TableName: TABLE,
                        Key: key("r-a"),
                        UpdateExpression: "ADD n :one",
                        ExpressionAttributeValues: { ":one": 1 },
                      },
                    },
                    {
                      Update: {
                        TableName: TABLE,
                        Key: key("r-b"),
                        UpdateExpression: "ADD n :one",
                        ConditionExpression: cancel ? "n < :zero" : "n >= :zero",
                        ExpressionAttributeValues: { ":one": 1, ":zero": 0 },
                      },
                    },
                  ],
                }),
              );
              committed++;
            } catch (err) {
              if (!(err instanceof TransactionCanceledException)) throw err;
            }
          } else if (kind === 1) {
            try {
              await client.send(
                new UpdateCommand({
                  TableName: TABLE,
                  Key: key("r-a"),
                  UpdateExpression: "ADD plain :one",
                  ConditionExpression: "attribute_exists(n)",
                  ExpressionAttributeValues: { ":one": 1 },
                }),
              );
              plainWrites++;
            } catch (err) {
              if (!(err instanceof ConditionalCheckFailedException)) throw err;
            }
          } else {
            const read = await client.send(
              new TransactGetCommand({
                TransactItems: [
                  { Get: { TableName: TABLE, Key: key("r-a") } },
                  { Get: { TableName: TABLE, Key: key("r-b") } },
                ],
              }),
            );
            const [a, b] = read.Responses?.map((r) => r.Item?.n) ?? [];
            if (a !== b) unequalReads.push([a, b]);
          }
        }
      }),
    );

    // Assess
    const a = await get("r-a");
    const b = await get("r-b");
    expect(unequalReads).toEqual([]);
    expect(committed).toBeGreaterThan(0);
    expect(a).toMatchObject({ n: committed, plain: plainWrites });
    expect(b).toMatchObject({ n: committed });
  });
});

describe("plain writes on the local DynamoDB", () => {
  it("return the item with a failed condition when asked (ReturnValuesOnConditionCheckFailure)", async () => {
    // Prepare
    await db.doc.send(new PutCommand({ TableName: TABLE, Item: { ...key("p-1"), owner: "a" } }));

    // Act
    const error = await db.doc
      .send(
        new PutCommand({
          TableName: TABLE,
          Item: { ...key("p-1"), owner: "b" },
          ConditionExpression: "attribute_not_exists(pk)",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      )
      .catch((err: unknown) => err);

    // Assess
    expect(error).toBeInstanceOf(ConditionalCheckFailedException);
    expect((error as ConditionalCheckFailedException).Item).toEqual({
      pk: { S: "p-1" },
      sk: { S: "item" },
      owner: { S: "a" },
    });
  });
});

describe("the local DynamoDB endpoint", () => {
  it("answers an operation it does not know as DynamoDB does, whatever its name", async () => {
    // Act
    const answers = await Promise.all(
      ["DynamoDB_20120810.toString", "DynamoDBStreams_20120810.constructor", "Nothing.At"].map(
        async (target) => {
          const res = await fetch(db.endpoint, {
            method: "POST",
            headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": target },
            body: "{}",
          });
          return { status: res.status, body: (await res.json()) as { __type?: string } };
        },
      ),
    );

    // Assess
    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(answer.body.__type).toContain("UnknownOperationException");
    }
  });
});
