import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import type { DeliveryRecord, DeliveryRepository } from "../domain/ports";

const DeliveryRecordSchema = z.object({
  provider: z.string(),
  deliveryId: z.string(),
  app: z.string(),
  runId: z.string(),
  receivedAt: z.string(),
  expiresAt: z.number(),
});

/**
 * Accepted webhook deliveries in the single Sluice table, one item per host and delivery id.
 * The table's TTL on `expiresAt` forgets them once no host would redeliver any more.
 */
export class DeliveryLog implements DeliveryRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async claim(record: DeliveryRecord): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...keyOf(record.provider, record.deliveryId), ...record },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async get(provider: string, deliveryId: string): Promise<DeliveryRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: keyOf(provider, deliveryId),
        ConsistentRead: true,
      }),
    );
    return Item ? DeliveryRecordSchema.parse(Item) : undefined;
  }

  async release(record: DeliveryRecord): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: keyOf(record.provider, record.deliveryId),
          ConditionExpression: "runId = :runId",
          ExpressionAttributeValues: { ":runId": record.runId },
        }),
      );
    } catch (err) {
      // Someone else's claim, or already gone: either way not ours to delete.
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }
}

function keyOf(provider: string, deliveryId: string): { pk: string; sk: string } {
  return { pk: `DELIVERY#${provider}#${deliveryId}`, sk: "DELIVERY" };
}
