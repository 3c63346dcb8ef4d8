import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import type { QueuedRun, RunQueue } from "../domain/ports";
import { dynamoDocument } from "./clients/dynamodb";
import { conditionalWrite } from "./conditional-write";
import { stackConfig } from "./config";

/**
 * Each app's waiting runs and its single running slot, kept in the app's own partition so that
 * every read here is strongly consistent (an index would be eventually consistent, and a run
 * could then wait behind a slot nobody releases).
 */
export class DynamoRunQueue implements RunQueue {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async enqueue(app: string, run: QueuedRun): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.table, Item: { ...queueKey(app, run), ...run } }),
    );
  }

  async waiting(app: string, limit?: number): Promise<QueuedRun[]> {
    const { Items = [] } = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :queue)",
        ExpressionAttributeValues: { ":pk": `APP#${app}`, ":queue": "QUEUE#" },
        ConsistentRead: true,
        ...(limit === undefined ? {} : { Limit: limit }),
      }),
    );
    return Items.map((i) => ({ runId: String(i.runId), createdAt: String(i.createdAt) }));
  }

  async take(app: string, run: QueuedRun): Promise<boolean> {
    return conditionalWrite(
      this.doc,
      new DeleteCommand({
        TableName: this.table,
        Key: queueKey(app, run),
        ConditionExpression: "attribute_exists(pk)",
      }),
    );
  }

  async holder(app: string): Promise<string | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: slotKey(app), ConsistentRead: true }),
    );
    return Item ? String(Item.runId) : undefined;
  }

  async acquire(app: string, runId: string, replacing?: string): Promise<boolean> {
    return conditionalWrite(
      this.doc,
      new PutCommand({
        TableName: this.table,
        Item: { ...slotKey(app), runId },
        ConditionExpression: replacing
          ? "runId = :replacing"
          : "attribute_not_exists(pk) OR runId = :runId",
        ExpressionAttributeValues: replacing ? { ":replacing": replacing } : { ":runId": runId },
      }),
    );
  }

  async release(app: string, runId: string): Promise<boolean> {
    return conditionalWrite(
      this.doc,
      new DeleteCommand({
        TableName: this.table,
        Key: slotKey(app),
        ConditionExpression: "runId = :runId",
        ExpressionAttributeValues: { ":runId": runId },
      }),
    );
  }
}

function queueKey(app: string, run: QueuedRun) {
  return { pk: `APP#${app}`, sk: `QUEUE#${run.createdAt}#${run.runId}` };
}

function slotKey(app: string) {
  return { pk: `APP#${app}`, sk: "SLOT" };
}

/** The stack's run queue, over the container's client. */
export function runQueue(): DynamoRunQueue {
  return new DynamoRunQueue(dynamoDocument(), stackConfig().table);
}
