import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  CreateTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { afterEach } from "vitest";
import {
  type LocalDynamoDb,
  type LocalDynamoDbOptions,
  startLocalDynamoDb,
} from "../../local/dynamodb";
import { startLocalDynamoDbThread } from "../../local/dynamodb/thread";

export const TABLE = "sluice-test";

/**
 * A local DynamoDB in its own folder (or the one given, to restart on it), with SDK clients;
 * on a worker thread of its own with `thread`, as `npm start` runs it.
 */
export async function startTestDynamoDb(options: TestDynamoDbOptions = {}): Promise<
  LocalDynamoDb & {
    dir: string;
    client: DynamoDBClient;
    doc: DynamoDBDocumentClient;
    newClient(): DynamoDBDocumentClient;
    cleanup(): Promise<void>;
  }
> {
  const { thread, ...rest } = options;
  const dir = rest.dir ?? (await mkdtemp(path.join(tmpdir(), "sluice-dynamodb-")));
  const settings = {
    ttlSweepIntervalMs: 0,
    streamRetryBaseDelayMs: 5,
    streamRetryMaxDelayMs: 20,
    ...rest,
    dir,
  };
  const db = await (thread
    ? startLocalDynamoDbThread(settings)
    : startLocalDynamoDb(settings)
  ).catch(async (err: unknown) => {
    if (!rest.dir) await rm(dir, { recursive: true, force: true });
    throw err;
  });
  const clients: DynamoDBClient[] = [];
  const newClient = () => {
    const client = new DynamoDBClient({
      endpoint: db.endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    clients.push(client);
    return DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
  };
  const doc = newClient();
  // Once: a test that closes it to restart on its folder leaves it to cleanup, which closes too.
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= db.close();
    return closed;
  };
  return {
    ...db,
    close,
    dir,
    client: clients[0] as DynamoDBClient,
    doc,
    newClient,
    cleanup: async () => {
      for (const client of clients) client.destroy();
      await close();
      if (!options.dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

type TestDynamoDbOptions = Partial<LocalDynamoDbOptions> & { thread?: boolean };
export type TestDynamoDb = Awaited<ReturnType<typeof startTestDynamoDb>>;

/**
 * startTestDynamoDb for the tests of a file: after each test, every one it started is cleaned
 * up, the last started first, so one restarted on an earlier one's folder closes before that
 * folder goes.
 */
export function useTestDynamoDbs(): (options?: TestDynamoDbOptions) => Promise<TestDynamoDb> {
  const started: TestDynamoDb[] = [];
  afterEach(async () => {
    for (const db of started.splice(0).reverse()) await db.cleanup();
  });
  return async (options) => {
    const db = await startTestDynamoDb(options);
    started.push(db);
    return db;
  };
}

/** A table shaped as serverless.yml's SluiceTable: pk/sk, the byApp index, a stream and TTL. */
export async function createSluiceLikeTable(
  client: DynamoDBClient,
  { name = TABLE, stream = true, ttl = true } = {},
): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "S" },
        { AttributeName: "gsi1pk", AttributeType: "S" },
        { AttributeName: "gsi1sk", AttributeType: "S" },
      ],
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: "byApp",
          KeySchema: [
            { AttributeName: "gsi1pk", KeyType: "HASH" },
            { AttributeName: "gsi1sk", KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        },
      ],
      ...(stream
        ? { StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" } }
        : {}),
    }),
  );
  if (ttl) {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
      }),
    );
  }
}

/** Subscribes a consumer that keeps every event it is handed; `answer` decides each outcome. */
export function recordingConsumer(
  db: LocalDynamoDb,
  consumer: Partial<Parameters<LocalDynamoDb["streams"]["subscribe"]>[0]> = {},
  answer: (event: DynamoDBStreamEvent, attempt: number) => unknown = () => undefined,
): { events: DynamoDBStreamEvent[]; records(): DynamoDBRecord[] } {
  const events: DynamoDBStreamEvent[] = [];
  db.streams.subscribe({ id: "recorder", tableName: TABLE, ...consumer }, async (event) => {
    events.push(event);
    return answer(event, events.length);
  });
  return { events, records: () => events.flatMap((e) => e.Records) };
}
