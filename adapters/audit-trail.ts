import {
  type DynamoDBDocumentClient,
  PutCommand,
  type TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { type AuditAction, type AuditEntry, AuditEntrySchema } from "../domain/audit";
import { monotonicUlids } from "../domain/ulids";
import { dynamoDocument } from "./clients/dynamodb";
import { stackConfig } from "./config";
import { BY_APP_KEY, type Page, type PageRequest, queryPage } from "./page-cursor";

type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

/**
 * The ids of events and audit entries, from one monotonic source: entries written by one process
 * in the same millisecond keep the order they were made in.
 */
export const newEntryId = monotonicUlids();

const TABLE_KEY = ["pk", "sk"] as const;

/**
 * Where an entry lives: in its run's partition (or its app's, for an app's own action), under
 * AUDIT#<id>; and in the byApp index under APP#<app>#AUDIT. Ids are ULIDs of the entry's time,
 * so both read newest first. Entries have no time to live: the trail is kept.
 */
function auditKeys(entry: AuditEntry) {
  return {
    pk: entry.runId ? `RUN#${entry.runId}` : `APP#${entry.app}`,
    sk: `AUDIT#${entry.id}`,
    gsi1pk: `APP#${entry.app}#AUDIT`,
    gsi1sk: entry.id,
  };
}

/** The Put of one audit entry, for the transaction of the change it records. */
export function auditEntryPut(table: string, entry: AuditEntry): TransactItem {
  return {
    Put: {
      TableName: table,
      Item: { ...auditKeys(entry), ...entry },
      ConditionExpression: "attribute_not_exists(pk)",
    },
  };
}

/**
 * The Put of an operator's action in the audit trail: add it to the TransactWriteItems of the
 * action itself, so the action is never done unrecorded (nor recorded undone).
 */
export function auditRecord(table: string, action: AuditAction): TransactItem {
  const { detail, runId, reason, ...rest } = action;
  return auditEntryPut(table, {
    ...rest,
    id: newEntryId(Date.parse(action.at)),
    kind: "action",
    ...(runId ? { runId } : {}),
    ...(reason ? { reason } : {}),
    ...(detail ? { detail } : {}),
  });
}

/** The audit trail, read per run and per app, newest first. */
export class AuditTrail {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /**
   * Records an action that changes nothing in the table (a webhook secret lives in SSM): written
   * once the action is done. Actions on the table put auditRecord in their own transaction.
   */
  async record(action: AuditAction): Promise<void> {
    const put = auditRecord(this.table, action).Put;
    if (put) await this.doc.send(new PutCommand(put));
  }

  async recordEvent(event: {
    app: string;
    type: string;
    at: string;
    eventId: string;
    detail: Record<string, unknown>;
  }): Promise<void> {
    const put = auditEntryPut(this.table, { ...event, id: event.eventId, kind: "event" }).Put;
    if (put) await this.doc.send(new PutCommand(put));
  }

  async byRun(runId: string, page: PageRequest): Promise<Page<AuditEntry>> {
    const pk = `RUN#${runId}`;
    const found = await queryPage(
      this.doc,
      {
        TableName: this.table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :audit)",
        ExpressionAttributeValues: { ":pk": pk, ":audit": "AUDIT#" },
        ConsistentRead: true,
      },
      TABLE_KEY,
      { pk },
      page,
    );
    return entries(found);
  }

  /** Every event of a run, in its sequence. */
  async eventsOf(runId: string): Promise<AuditEntry[]> {
    const all: AuditEntry[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.byRun(runId, { limit: 100, cursor });
      all.push(...page.items.filter((e) => e.kind === "event"));
      cursor = page.nextCursor;
    } while (cursor);
    return all.sort((a, b) => (a.sequence ?? 0) - (b.sequence ?? 0));
  }

  async byApp(app: string, page: PageRequest): Promise<Page<AuditEntry>> {
    const gsi1pk = `APP#${app}#AUDIT`;
    const found = await queryPage(
      this.doc,
      {
        TableName: this.table,
        IndexName: "byApp",
        KeyConditionExpression: "gsi1pk = :pk",
        ExpressionAttributeValues: { ":pk": gsi1pk },
      },
      BY_APP_KEY,
      { gsi1pk },
      page,
    );
    return entries(found);
  }
}

function entries(page: Page<Record<string, unknown>>): Page<AuditEntry> {
  return { ...page, items: page.items.map((i) => AuditEntrySchema.parse(i)) };
}

/** The stack's audit trail, over the container's client. */
export function auditTrail(): AuditTrail {
  return new AuditTrail(dynamoDocument(), stackConfig().table);
}
