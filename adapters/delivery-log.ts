import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { DeliveryKey, DeliveryRecord, DeliveryRepository } from "../domain/ports";
import * as z from "../domain/zod";
import { dynamoDocument } from "./clients/dynamodb";
import { conditionalWrite } from "./conditional-write";
import { stackConfig } from "./config";

const DeliveryRecordSchema = z.object({
  app: z.string(),
  provider: z.string(),
  deliveryId: z.string(),
  runId: z.string(),
  payloadSha256: z.string(),
  receivedAt: z.string(),
  expiresAt: z.number(),
});

/**
 * Accepted webhook deliveries in the single Sluice table: one item per app, host and delivery
 * id, and one per app, host and body, which names the delivery that brought it. The table's TTL
 * on `expiresAt` forgets both once no host would redeliver any more.
 */
export class DeliveryLog implements DeliveryRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async claim(record: DeliveryRecord): Promise<boolean> {
    return conditionalWrite(
      this.doc,
      new PutCommand({
        TableName: this.table,
        Item: { ...deliveryKey(record), ...record },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
  }

  async claimPayload(record: DeliveryRecord): Promise<string | undefined> {
    const claimed = await conditionalWrite(
      this.doc,
      new PutCommand({
        TableName: this.table,
        Item: {
          ...payloadKey(record),
          deliveryId: record.deliveryId,
          expiresAt: record.expiresAt,
        },
        ConditionExpression: "attribute_not_exists(pk) OR deliveryId = :deliveryId",
        ExpressionAttributeValues: { ":deliveryId": record.deliveryId },
      }),
    );
    if (claimed) return undefined;
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: payloadKey(record), ConsistentRead: true }),
    );
    // Gone in between: its delivery was released, and whoever comes next may take it.
    return Item ? String(Item.deliveryId) : this.claimPayload(record);
  }

  async get(key: DeliveryKey): Promise<DeliveryRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: deliveryKey(key), ConsistentRead: true }),
    );
    return Item ? DeliveryRecordSchema.parse(Item) : undefined;
  }

  async release(record: DeliveryRecord): Promise<void> {
    // Someone else's claim, or already gone: either way not ours to delete.
    await conditionalWrite(
      this.doc,
      new DeleteCommand({
        TableName: this.table,
        Key: payloadKey(record),
        ConditionExpression: "deliveryId = :deliveryId",
        ExpressionAttributeValues: { ":deliveryId": record.deliveryId },
      }),
    );
    await conditionalWrite(
      this.doc,
      new DeleteCommand({
        TableName: this.table,
        Key: deliveryKey(record),
        ConditionExpression: "runId = :runId",
        ExpressionAttributeValues: { ":runId": record.runId },
      }),
    );
  }

  async reassign(record: DeliveryRecord, runId: string): Promise<boolean> {
    return conditionalWrite(
      this.doc,
      new UpdateCommand({
        TableName: this.table,
        Key: deliveryKey(record),
        UpdateExpression: "SET runId = :runId",
        ConditionExpression: "runId = :was",
        ExpressionAttributeValues: { ":runId": runId, ":was": record.runId },
      }),
    );
  }
}

function deliveryKey({ app, provider, deliveryId }: DeliveryKey): { pk: string; sk: string } {
  return { pk: `DELIVERY#${app}#${provider}#${deliveryId}`, sk: "DELIVERY" };
}

function payloadKey(record: DeliveryRecord): { pk: string; sk: string } {
  return { pk: `PAYLOAD#${record.app}#${record.provider}#${record.payloadSha256}`, sk: "PAYLOAD" };
}

/** The stack's webhook delivery log, over the container's client. */
export function deliveryLog(): DeliveryLog {
  return new DeliveryLog(dynamoDocument(), stackConfig().table);
}
