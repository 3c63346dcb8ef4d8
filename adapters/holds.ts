import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { type Freeze, FreezeSchema, type GroupLock, GroupLockSchema } from "../domain/holds";
import type { Freezes, GroupKey, GroupLocks, HoldWatch, HoldWatches } from "../domain/ports";
import { auditRecord } from "./audit-trail";
import { dynamoDocument } from "./clients/dynamodb";
import { stackConfig } from "./config";
import { outboxItem } from "./run-store";

/** Weeks after it was made, a hold's watch may go (the table's TTL removes it). */
const WATCH_RETENTION_SECONDS = 30 * 24 * 3600;

/**
 * Apps' freezes: one item an app, written or deleted together with its event. Its deletion
 * reaches the table's stream, which lets the waves it held go (holdsReleased).
 */
export class DynamoFreezes implements Freezes {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(app: string): Promise<Freeze | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: freezeKey(app), ConsistentRead: true }),
    );
    return Item ? FreezeSchema.parse(Item) : undefined;
  }

  async put(freeze: Freeze): Promise<void> {
    await this.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: this.table,
              // Kept a day past its end for the record, then DynamoDB's TTL removes it.
              Item: {
                ...freezeKey(freeze.app),
                ...freeze,
                expiresAt: Math.floor(Date.parse(freeze.until) / 1000) + 86_400,
              },
            },
          },
          {
            Put: {
              TableName: this.table,
              Item: outboxItem(
                freezeKey(freeze.app).pk,
                { detailType: "App Frozen", detail: freeze },
                freeze.at,
              ),
            },
          },
          auditRecord(this.table, {
            app: freeze.app,
            type: "freeze",
            by: freeze.by,
            reason: freeze.reason,
            at: freeze.at,
            detail: { until: freeze.until },
          }),
        ],
      }),
    );
  }

  async lift(app: string, by: string, reason: string, at: string): Promise<Freeze | undefined> {
    const freeze = await this.get(app);
    if (!freeze) return undefined;
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.table,
                Key: freezeKey(app),
                ConditionExpression: "#at = :at",
                ExpressionAttributeNames: { "#at": "at" },
                ExpressionAttributeValues: { ":at": freeze.at },
              },
            },
            {
              Put: {
                TableName: this.table,
                Item: outboxItem(
                  freezeKey(app).pk,
                  {
                    detailType: "App Unfrozen",
                    detail: { ...freeze, liftedBy: by, liftReason: reason, at },
                  },
                  at,
                ),
              },
            },
            auditRecord(this.table, { app, type: "unfreeze", by, reason, at }),
          ],
        }),
      );
    } catch (err) {
      // Lifted or replaced meanwhile: the caller reads it again.
      if ((err as Error).name === "TransactionCanceledException")
        return this.lift(app, by, reason, at);
      throw err;
    }
    return freeze;
  }
}

function freezeKey(app: string) {
  return { pk: `FREEZE#${app}`, sk: "FREEZE" };
}

/**
 * Leases on deployment groups: one item a group, whoever's app deploys to it. Taking, renewing
 * and letting go are conditional writes, so two runs never both believe they hold it; a
 * deletion reaches the table's stream, which lets the runs waiting for the group try again.
 */
export class DynamoGroupLocks implements GroupLocks {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(group: GroupKey): Promise<GroupLock | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: lockKey(group), ConsistentRead: true }),
    );
    return Item ? GroupLockSchema.parse(Item) : undefined;
  }

  /**
   * An update rather than a put: a lock taken anew (by its holder again, or over a run-out
   * lease) keeps the note that a wave waits for the group, so its release still wakes it.
   */
  async acquire(
    lock: GroupLock,
    now: string,
  ): Promise<{ taken: true } | { taken: false; by: GroupLock }> {
    const { deploymentId, ...fields } = lock;
    const set = deploymentId === undefined ? fields : { ...fields, deploymentId };
    const names = Object.fromEntries(Object.keys(set).map((name) => [`#${name}`, name]));
    const values = Object.fromEntries(Object.entries(set).map(([name, v]) => [`:${name}`, v]));
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: lockKey(lock),
          UpdateExpression: `SET ${Object.keys(set)
            .map((name) => `#${name} = :${name}`)
            .join(", ")}${deploymentId === undefined ? " REMOVE #deploymentId" : ""}`,
          ConditionExpression:
            "attribute_not_exists(pk) OR #holder = :holder OR #leaseUntil < :now",
          ExpressionAttributeNames: { ...names, "#deploymentId": "deploymentId" },
          ExpressionAttributeValues: { ...values, ":now": now },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      return { taken: true };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      const held = err.Item ? GroupLockSchema.safeParse(unmarshall(err.Item as never)) : undefined;
      if (held?.success) return { taken: false, by: held.data };
      const current = await this.get(lock);
      if (!current) return this.acquire(lock, now);
      return { taken: false, by: current };
    }
  }

  async renew(
    group: GroupKey,
    holder: string,
    leaseUntil: string,
    deploymentId?: string,
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: lockKey(group),
          UpdateExpression: `SET leaseUntil = :until${deploymentId ? ", deploymentId = :deployment" : ""}`,
          ConditionExpression: "holder = :holder",
          ExpressionAttributeValues: {
            ":until": leaseUntil,
            ":holder": holder,
            ...(deploymentId ? { ":deployment": deploymentId } : {}),
          },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async release(group: GroupKey, holder: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: lockKey(group),
          ConditionExpression: "holder = :holder",
          ExpressionAttributeValues: { ":holder": holder },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  async watch(group: GroupKey, holder: string): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: lockKey(group),
          UpdateExpression: "SET watched = :watched",
          ConditionExpression: "holder = :holder",
          ExpressionAttributeValues: { ":watched": true, ":holder": holder },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }
}

function lockKey(group: GroupKey) {
  return { pk: `LOCK#${group.application}#${group.deploymentGroup}`, sk: "LOCK" };
}

/** Which steps wait on a freeze or a lock, kept under it: the stream event names only it. */
export class DynamoHoldWatches implements HoldWatches {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async put(on: string, watch: HoldWatch): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          ...watchKey(on, watch),
          ...watch,
          expiresAt: Math.floor(Date.now() / 1000) + WATCH_RETENTION_SECONDS,
        },
      }),
    );
  }

  async of(on: string): Promise<HoldWatch[]> {
    const { Items = [] } = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": `HOLD#${on}` },
        ConsistentRead: true,
      }),
    );
    return Items.map((i) => ({
      runId: String(i.runId),
      index: Number(i.index),
      attempt: Number(i.attempt),
      token: String(i.token),
    }));
  }

  async remove(on: string, watch: HoldWatch): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: watchKey(on, watch) }));
  }
}

function watchKey(on: string, watch: HoldWatch) {
  return { pk: `HOLD#${on}`, sk: `WAIT#${watch.runId}#${watch.index}#${watch.attempt}` };
}

export function freezes(): DynamoFreezes {
  return new DynamoFreezes(dynamoDocument(), stackConfig().table);
}

export function groupLocks(): DynamoGroupLocks {
  return new DynamoGroupLocks(dynamoDocument(), stackConfig().table);
}

export function holdWatches(): DynamoHoldWatches {
  return new DynamoHoldWatches(dynamoDocument(), stackConfig().table);
}
