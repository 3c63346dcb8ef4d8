import { appendFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import dynalite from "dynalite";
import { afterEach, describe, expect, it } from "vitest";
import { listen } from "../../local/aws-json-server";
import { createSluiceLikeTable, startTestDynamoDb, TABLE } from "../support/local-dynamodb";
import { waitFor } from "../support/local-stack";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

const get = (doc: DynamoDBDocumentClient, pk: string) =>
  doc.send(new GetCommand({ TableName: TABLE, Key: { pk, sk: "item" } }));

describe("the local DynamoDB's store log", () => {
  it("keeps the last write of each item over a restart, compacted, and leaves out a torn last line", async () => {
    // Prepare: one item written 200 times, then a line cut short as a SIGKILL mid-write leaves it.
    dir = await mkdtemp(path.join(tmpdir(), "sluice-store-log-"));
    const first = await startTestDynamoDb({ dir });
    await createSluiceLikeTable(first.client);
    for (let n = 0; n < 200; n++) {
      await first.doc.send(new PutCommand({ TableName: TABLE, Item: { pk: "a", sk: "item", n } }));
    }
    await first.cleanup();
    const log = path.join(dir, "store.jsonl");
    const written = (await readFile(log)).length;
    await appendFile(log, '[["item-sluice-test~torn","half');

    // Act
    const second = await startTestDynamoDb({ dir });
    const item = await get(second.doc, "a");
    await second.cleanup();

    // Assess
    expect(item.Item).toMatchObject({ pk: "a", n: 199 });
    expect((await readFile(log)).length).toBeLessThan(written / 10);
    expect(await readFile(log, "utf8")).not.toContain("torn");
  });

  it("reads in the LevelDB a state folder of an earlier version holds", async () => {
    // Prepare: the table and an item as dynalite kept them on LevelDB before.
    dir = await mkdtemp(path.join(tmpdir(), "sluice-store-log-"));
    const old = dynalite({ path: dir, createTableMs: 0 });
    const port = await listen(old, 0);
    const client = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    await createSluiceLikeTable(client, { stream: false, ttl: false });
    // dynalite makes a new table ACTIVE on a timer of its own, even a 0 ms one.
    await waitFor(
      async () => {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: TABLE }));
        return Table?.TableStatus === "ACTIVE" ? true : undefined;
      },
      { timeoutMs: 5000, what: "the table to be ACTIVE" },
    );
    await DynamoDBDocumentClient.from(client).send(
      new PutCommand({ TableName: TABLE, Item: { pk: "kept", sk: "item", from: "leveldb" } }),
    );
    client.destroy();
    await new Promise((resolve) => old.close(resolve));

    // Act
    const db = await startTestDynamoDb({ dir });
    const item = await get(db.doc, "kept");
    await db.cleanup();

    // Assess
    expect(item.Item).toEqual({ pk: "kept", sk: "item", from: "leveldb" });
  });
});
