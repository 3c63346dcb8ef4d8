import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { GetCommand, PutCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import {
  createSluiceLikeTable,
  recordingConsumer,
  startTestDynamoDb,
  TABLE,
} from "../support/local-dynamodb";
import { waitFor } from "../support/local-stack";

const CHILD = fileURLToPath(new URL("../support/dynamodb-crash-child.ts", import.meta.url));

describe("the local DynamoDB after a SIGKILL mid-transaction", () => {
  it("undoes the half-applied transaction and still delivers the records committed before", async () => {
    // Prepare: a process commits two writes, then is killed with one of a transaction's two
    // items applied.
    const dir = await mkdtemp(path.join(tmpdir(), "sluice-dynamodb-crash-"));
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, dir], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      await waitFor(async () => (output.includes("half-applied") ? true : undefined), {
        timeoutMs: 20_000,
        what: "the child to be half-way through its transaction",
      });
    } finally {
      child.kill("SIGKILL");
      await exited;
    }

    // Act
    const db = await startTestDynamoDb({ dir });
    try {
      const consumer = recordingConsumer(db);
      await db.streams.idle();
      const counter = async (pk: string) =>
        (await db.doc.send(new GetCommand({ TableName: TABLE, Key: { pk, sk: "counter" } }))).Item;

      // Assess
      expect(await counter("a")).toMatchObject({ n: 0 });
      expect(await counter("b")).toMatchObject({ n: 0 });
      expect(consumer.records().map((r) => [r.eventName, r.dynamodb?.NewImage?.pk?.S])).toEqual([
        ["INSERT", "a"],
        ["INSERT", "b"],
      ]);
    } finally {
      await db.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("remembers a committed transaction's ClientRequestToken across a restart", async () => {
    // Prepare
    const first = await startTestDynamoDb();
    await createSluiceLikeTable(first.client);
    await first.doc.send(
      new PutCommand({ TableName: TABLE, Item: { pk: "count", sk: "item", n: 0 } }),
    );
    const increment = new TransactWriteCommand({
      ClientRequestToken: "step-1-attempt-1",
      TransactItems: [
        {
          Update: {
            TableName: TABLE,
            Key: { pk: "count", sk: "item" },
            UpdateExpression: "SET n = n + :one",
            ExpressionAttributeValues: { ":one": 1 },
          },
        },
      ],
    });
    await first.doc.send(increment);
    await first.close();
    const kept = (await readFile(path.join(first.dir, "front", "request-tokens.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));

    // Act
    const db = await startTestDynamoDb({ dir: first.dir });
    try {
      await db.doc.send(increment);
      const { Item } = await db.doc.send(
        new GetCommand({ TableName: TABLE, Key: { pk: "count", sk: "item" } }),
      );

      // Assess
      expect(Item).toMatchObject({ n: 1 });
      // A fingerprint of the transaction is kept for its token, not the transaction's text.
      expect(kept).toEqual([
        expect.objectContaining({
          token: "step-1-attempt-1",
          request: expect.stringMatching(/^[0-9a-f]{64}$/),
        }),
      ]);
    } finally {
      await db.cleanup();
      await rm(first.dir, { recursive: true, force: true });
    }
  });

  it("keeps a write killed after its stream records were written, and undoes one killed before", async () => {
    // Prepare: two plain writes, then their files edited back to the moment of a SIGKILL: the
    // first after its stream record was written (its journal entry still open), the second
    // after dynalite applied it but before its stream record.
    const first = await startTestDynamoDb();
    await createSluiceLikeTable(first.client);
    await first.doc.send(new PutCommand({ TableName: TABLE, Item: { pk: "kept", sk: "item" } }));
    await first.doc.send(new PutCommand({ TableName: TABLE, Item: { pk: "undone", sk: "item" } }));
    await first.close();
    const files = path.join(first.dir, "front");
    const lines = async (name: string) =>
      (await readFile(path.join(files, name), "utf8")).split("\n").filter(Boolean);
    const journal = await lines("undo-journal.jsonl");
    await writeFile(
      path.join(files, "undo-journal.jsonl"),
      journal
        .filter((line) => !line.includes('"end":true'))
        .join("\n")
        .concat("\n"),
    );
    const records = await lines("stream-records.jsonl");
    await writeFile(
      path.join(files, "stream-records.jsonl"),
      records
        .filter((line) => !line.includes('"undone"'))
        .join("\n")
        .concat("\n"),
    );

    // Act
    const db = await startTestDynamoDb({ dir: first.dir });
    try {
      const consumer = recordingConsumer(db);
      await db.streams.idle();
      const item = async (pk: string) =>
        (await db.doc.send(new GetCommand({ TableName: TABLE, Key: { pk, sk: "item" } }))).Item;

      // Assess
      expect(await item("kept")).toBeDefined();
      expect(await item("undone")).toBeUndefined();
      expect(consumer.records().map((r) => r.dynamodb?.Keys?.pk?.S)).toEqual(["kept"]);
    } finally {
      await db.cleanup();
      await rm(first.dir, { recursive: true, force: true });
    }
  });
});
