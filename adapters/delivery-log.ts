import { type DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import type { PayloadHolder } from "../domain/intake-claims";
import type { DeliveryKey, DeliveryRecord, DeliveryRepository } from "../domain/ports";
import * as z from "../domain/zod";
import { dynamoDocument } from "./clients/dynamodb";
import { stackConfig } from "./config";

export const DeliveryRecordSchema = z.object({
  app: z.string(),
  provider: z.string(),
  deliveryId: z.string(),
  runId: z.string(),
  payloadSha256: z.string(),
  receivedAt: z.string(),
  expiresAt: z.number(),
});

export const PayloadHolderSchema = z.object({ deliveryId: z.string(), runId: z.string() });

/**
 * Accepted webhook deliveries in the single Sluice table: one item per app, host and delivery
 * id, and one per app, host and body, which names the delivery that brought it and its run.
 * Both are written with the run they start (see RunStore.create). The table's TTL on
 * `expiresAt` forgets them once no host would redeliver any more.
 */
export class DeliveryLog implements DeliveryRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(key: DeliveryKey): Promise<DeliveryRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: deliveryKey(key), ConsistentRead: true }),
    );
    return Item ? DeliveryRecordSchema.parse(Item) : undefined;
  }
}

/** The delivery's item, as its claim writes it. */
export function deliveryItem(record: DeliveryRecord): Record<string, unknown> {
  return { ...deliveryKey(record), ...record };
}

/** The item of the delivery's body, as its claim writes it. */
export function payloadItem(record: DeliveryRecord): Record<string, unknown> {
  const holder: PayloadHolder = { deliveryId: record.deliveryId, runId: record.runId };
  return {
    pk: `PAYLOAD#${record.app}#${record.provider}#${record.payloadSha256}`,
    sk: "PAYLOAD",
    ...holder,
    expiresAt: record.expiresAt,
  };
}

function deliveryKey({ app, provider, deliveryId }: DeliveryKey): { pk: string; sk: string } {
  return { pk: `DELIVERY#${app}#${provider}#${deliveryId}`, sk: "DELIVERY" };
}

/** The stack's webhook delivery log, over the container's client. */
export function deliveryLog(): DeliveryLog {
  return new DeliveryLog(dynamoDocument(), stackConfig().table);
}
