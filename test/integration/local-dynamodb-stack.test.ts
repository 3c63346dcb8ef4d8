import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack, waitFor } from "../support/local-stack";

let stack: Awaited<ReturnType<typeof startTestStack>>;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.cleanup());

describe("the local stack's table", () => {
  it("has serverless.yml's stream and time to live, and streams its writes", async () => {
    // Prepare
    const client = new DynamoDBClient({});
    const records: DynamoDBRecord[] = [];
    stack.services.dynamodb.streams.subscribe(
      { id: "test", tableName: stack.resources.table, startingPosition: "LATEST" },
      async (event) => {
        records.push(...event.Records);
      },
    );

    // Act
    const { Table } = await client.send(
      new DescribeTableCommand({ TableName: stack.resources.table }),
    );
    const ttl = await client.send(
      new DescribeTimeToLiveCommand({ TableName: stack.resources.table }),
    );
    await DynamoDBDocumentClient.from(client).send(
      new PutCommand({ TableName: stack.resources.table, Item: { pk: "STREAM", sk: "ME" } }),
    );

    // Assess
    expect(Table?.StreamSpecification).toEqual({
      StreamEnabled: true,
      StreamViewType: "NEW_AND_OLD_IMAGES",
    });
    expect(ttl.TimeToLiveDescription).toEqual({
      TimeToLiveStatus: "ENABLED",
      AttributeName: "expiresAt",
    });
    const [record] = await waitFor(async () => (records.length ? records : undefined));
    expect(record).toMatchObject({
      eventName: "INSERT",
      eventSourceARN: Table?.LatestStreamArn,
      dynamodb: { Keys: { pk: { S: "STREAM" }, sk: { S: "ME" } } },
    });
    client.destroy();
  });
});
