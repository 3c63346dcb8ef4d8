import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import {
  type BundleRejection,
  BundleRejectionSchema,
  type BundleRelease,
  BundleReleaseSchema,
} from "../domain/bundles/release-record";
import type { BundleLedger } from "../domain/ports";
import { dynamoDocument } from "./clients/dynamodb";
import { stackConfig } from "./config";

/** Refusals are kept long enough for an uploader to read why, then left to the table's TTL. */
const REJECTION_TTL_SECONDS = 30 * 24 * 3600;

/**
 * Bundle releases in the single Sluice table, one partition per app version: the release (the
 * one accepted bundle, written once, conditionally, with the run it starts: see
 * RunStore.create) and the uploads that were refused, one item per S3 object.
 */
export class DynamoBundleLedger implements BundleLedger {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async release(app: string, version: string): Promise<BundleRelease | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: partition(app, version), sk: "RELEASE" },
        ConsistentRead: true,
      }),
    );
    return Item ? BundleReleaseSchema.parse(Item) : undefined;
  }

  async recordRejection(rejection: BundleRejection): Promise<void> {
    const object = rejection.versionId ? `v:${rejection.versionId}` : `e:${rejection.etag}`;
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: partition(rejection.app, rejection.version),
          sk: `REJECTION#${object}`,
          ...rejection,
          expiresAt: Math.floor(Date.parse(rejection.at) / 1000) + REJECTION_TTL_SECONDS,
        },
      }),
    );
  }

  /** The version's release, if any, and its refused uploads, latest first. */
  async history(
    app: string,
    version: string,
  ): Promise<{ release: BundleRelease | undefined; rejections: BundleRejection[] }> {
    const { Items = [] } = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": partition(app, version) },
        ConsistentRead: true,
      }),
    );
    const release = Items.find((item) => item.sk === "RELEASE");
    const rejections = Items.filter((item) => String(item.sk).startsWith("REJECTION#"))
      .map((item) => BundleRejectionSchema.parse(item))
      .sort((a, b) => b.at.localeCompare(a.at));
    return { release: release ? BundleReleaseSchema.parse(release) : undefined, rejections };
  }
}

/** The release's item, as its claim writes it. */
export function releaseItem(release: BundleRelease): Record<string, unknown> {
  return { pk: partition(release.app, release.version), sk: "RELEASE", ...release };
}

function partition(app: string, version: string): string {
  return `BUNDLE#${app}#${version}`;
}

/** The stack's bundle ledger, over the container's client. */
export function bundleLedger(): DynamoBundleLedger {
  return new DynamoBundleLedger(dynamoDocument(), stackConfig().table);
}
