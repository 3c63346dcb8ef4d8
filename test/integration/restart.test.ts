import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { api, portsOf, startTestStack, waitFor } from "../support/local-stack";

// Its own file: handlers keep the SDK clients of the first stack they served in a process.
describe("a restart of the local stack", () => {
  it("keeps table items, bucket objects and the event log in the state folder", async () => {
    // Prepare
    const stateDir = await mkdtemp(path.join(tmpdir(), "sluice-restart-"));
    const first = await startTestStack(stateDir);
    await new DynamoDBClient({}).send(
      new PutItemCommand({
        TableName: first.resources.table,
        Item: { pk: { S: "KEEP" }, sk: { S: "ME" } },
      }),
    );
    await new S3Client({ forcePathStyle: true }).send(
      new PutObjectCommand({
        Bucket: first.resources.releasesBucket,
        Key: "keep/1.zip",
        Body: "kept",
      }),
    );
    await api(first, "PUT", "/apps/kept", "");
    const created = await api(first, "POST", "/apps/kept/runs", {
      revision: { type: "git", commit: "c".repeat(40) },
    });
    await waitFor(async () =>
      (await api(first, "GET", `/runs/${created.body.id}`)).body.status === "SUCCEEDED"
        ? true
        : undefined,
    );
    await first.stop();

    // Act
    const second = await startTestStack(stateDir, portsOf(first));
    try {
      const item = await new DynamoDBClient({}).send(
        new GetItemCommand({
          TableName: second.resources.table,
          Key: { pk: { S: "KEEP" }, sk: { S: "ME" } },
        }),
      );
      const object = await new S3Client({ forcePathStyle: true }).send(
        new GetObjectCommand({ Bucket: second.resources.releasesBucket, Key: "keep/1.zip" }),
      );
      const run = await api(second, "GET", `/runs/${created.body.id}`);

      // Assess
      expect(item.Item).toBeDefined();
      expect(await object.Body?.transformToString()).toBe("kept");
      expect(run.body.status).toBe("SUCCEEDED");
      expect(
        (await second.eventBridge.read()).some((e) => e["detail-type"] === "Run Succeeded"),
      ).toBe(true);
    } finally {
      await second.stop();
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
