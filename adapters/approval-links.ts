import { type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { ApprovalLink, ApprovalLinks } from "../domain/ports";
import * as z from "../domain/zod";
import { dynamoDocument } from "./clients/dynamodb";
import { stackConfig } from "./config";

/** How long a link's item outlives the link, so an expired link is told expired, not unknown. */
const KEPT_AFTER_EXPIRY_SECONDS = 30 * 24 * 3600;

const LinkItemSchema = z.object({
  tokenHash: z.string(),
  runId: z.string(),
  index: z.number(),
  attempt: z.number(),
  generation: z.number(),
  email: z.string(),
  approver: z.number(),
  validUntil: z.string(),
  createdAt: z.string(),
  usedAt: z.optional(z.string()),
});

/** A link's item, found by its token's hash alone: a link names no run before it is checked. */
export function approvalLinkItemKey(tokenHash: string) {
  return { pk: `APPROVAL#${tokenHash}`, sk: "LINK" };
}

/** Approval links in the Sluice table; `expiresAt` is the table's TTL attribute. */
export class ApprovalLinkStore implements ApprovalLinks {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async issue(links: readonly ApprovalLink[]): Promise<void> {
    await Promise.all(
      links.map((link) =>
        this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: {
              ...approvalLinkItemKey(link.tokenHash),
              ...link,
              expiresAt: Math.floor(Date.parse(link.validUntil) / 1000) + KEPT_AFTER_EXPIRY_SECONDS,
            },
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        ),
      ),
    );
  }

  async get(tokenHash: string): Promise<ApprovalLink | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: approvalLinkItemKey(tokenHash),
        ConsistentRead: true,
      }),
    );
    if (!Item) return undefined;
    const { usedAt, ...link } = LinkItemSchema.parse(Item);
    return { ...link, ...(usedAt ? { usedAt } : {}) };
  }
}

/** The stack's approval links, over the container's client. */
export function approvalLinkStore(): ApprovalLinkStore {
  return new ApprovalLinkStore(dynamoDocument(), stackConfig().table);
}
