import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { actorOfEvent } from "../domain/audit";
import { BundleReleaseSchema } from "../domain/bundles/release-record";
import { ConflictError, TransientError } from "../domain/errors";
import { ClaimTakenError, type IntakeClaim, type TakenClaim } from "../domain/intake-claims";
import {
  EVENT_ID_FIELD,
  EVENT_SEQUENCE_FIELD,
  type LifecycleEvent,
} from "../domain/lifecycle-events";
import type { RunRepository } from "../domain/ports";
import { type BundleRevision, BundleRevisionSchema } from "../domain/revision";
import {
  type Run,
  RunSchema,
  type RunStatus,
  type RunView,
  type StepRecord,
  StepRecordSchema,
  stagesOf,
} from "../domain/run";
import type { RunTransition } from "../domain/steps";
import { watchItem } from "./alarms";
import { approvalLinkItemKey } from "./approval-links";
import { auditEntryPut, auditRecord, newEntryId } from "./audit-trail";
import { releaseItem } from "./bundle-ledger";
import { dynamoDocument } from "./clients/dynamodb";
import { stackConfig } from "./config";
import {
  DeliveryRecordSchema,
  deliveryItem,
  PayloadHolderSchema,
  payloadItem,
} from "./delivery-log";
import { waitItem } from "./deployment-waits";
import {
  BY_APP_KEY,
  BY_LIST_INDEX,
  BY_LIST_KEY,
  type Page,
  type PageRequest,
  queryPage,
} from "./page-cursor";

type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

/** How long a published event's outbox item is kept (DynamoDB's TTL removes it after). */
const OUTBOX_RETENTION_SECONDS = 7 * 24 * 3600;

/** How often a transition is written again when only another transition's events came first. */
const SEQUENCE_RETRIES = 8;

/** Where a run's lifecycle events are numbered up to, and its app (their audit entries name it). */
interface RunSequence {
  sequence: number;
  app: string;
}

/**
 * Runs in the single Sluice table, each in its own partition: the run item, one item per step
 * attempt, and its outbox (one item per lifecycle event, which the table's stream publishes to
 * the bus). Every change to a run is one transaction with its step records and its events, so
 * none of them is ever written without the others.
 */
export class RunStore implements RunRepository {
  /**
   * Each run's event sequence as this store last read or wrote it: a change written right after
   * its run was read numbers its events without reading the run item again. One out of date
   * costs a refused write, then a read, as a write that raced another does.
   */
  private readonly sequences = new Map<string, RunSequence>();

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(
    run: Run,
    events: readonly LifecycleEvent[],
    claims: readonly IntakeClaim[] = [],
  ): Promise<void> {
    const now = run.createdAt;
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.table,
          Item: { ...runKeys(run), ...run, sequence: events.length },
          ConditionExpression: "attribute_not_exists(pk)",
        },
      },
      ...claims.map(
        (claim): TransactItem => ({
          Put: {
            TableName: this.table,
            Item: claimItem(claim),
            ConditionExpression: "attribute_not_exists(pk)",
            // The claim made before comes back with the refusal, so no read is needed.
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          },
        }),
      ),
      // The operator's request first: its entry sorts before the events it led to.
      ...(run.trigger.type === "api" && run.trigger.actor
        ? [
            auditRecord(this.table, {
              app: run.app,
              runId: run.id,
              type: startActionOf(run),
              by: run.trigger.actor,
              ...(run.trigger.reason ? { reason: run.trigger.reason } : {}),
              at: now,
            }),
          ]
        : []),
      ...this.eventPuts(run, events, 1, now),
    ];
    try {
      await this.transact(items, run.id, `run ${run.id} already exists`);
    } catch (err) {
      throw takenClaim(err, claims) ?? err;
    }
  }

  async get(runId: string): Promise<RunView | undefined> {
    const { Items = [] } = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        // "RUN" sorts before "STEP#..." and "STEP$" after every one of them, so the outbox
        // (EVENT#...) and the task tokens (TOKEN#...) stay out of the answer.
        KeyConditionExpression: "pk = :pk AND sk BETWEEN :run AND :stepsEnd",
        ExpressionAttributeValues: { ":pk": `RUN#${runId}`, ":run": "RUN", ":stepsEnd": "STEP$" },
        ConsistentRead: true,
      }),
    );
    const item = Items.find((i) => i.sk === "RUN");
    if (!item) return undefined;
    this.noteSequence(runId, item);
    const steps = Items.filter((i) => String(i.sk).startsWith("STEP#")).map(
      (i): StepRecord => StepRecordSchema.parse(i),
    );
    return { ...RunSchema.parse(item), stages: stagesOf(steps), steps };
  }

  /**
   * A page of runs, newest first: one app's (the byApp index) or every app's (byList), of one
   * status when `status` is given.
   */
  async list(
    filter: { app?: string | undefined; status?: RunStatus | undefined },
    page: PageRequest,
  ): Promise<Page<Run>> {
    const byStatus = filter.status
      ? {
          FilterExpression: "#status = :status",
          ExpressionAttributeNames: { "#status": "status" },
        }
      : {};
    const status = filter.status ? { ":status": filter.status } : {};
    const found = filter.app
      ? await queryPage(
          this.doc,
          {
            TableName: this.table,
            IndexName: "byApp",
            KeyConditionExpression: "gsi1pk = :pk",
            ExpressionAttributeValues: { ":pk": `APP#${filter.app}#RUNS`, ...status },
            ...byStatus,
          },
          BY_APP_KEY,
          { gsi1pk: `APP#${filter.app}#RUNS` },
          page,
        )
      : await queryPage(
          this.doc,
          {
            TableName: this.table,
            IndexName: BY_LIST_INDEX,
            KeyConditionExpression: "gsi2pk = :pk",
            ExpressionAttributeValues: { ":pk": "RUNS", ...status },
            ...byStatus,
          },
          BY_LIST_KEY,
          { gsi2pk: "RUNS" },
          page,
        );
    return { ...found, items: found.items.map((i) => RunSchema.parse(i)) };
  }

  /** The app's runs created in [from, to), oldest first, read page by page. */
  async listCreatedBetween(app: string, from: string, to: string): Promise<Run[]> {
    const runs: Run[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: "byApp",
          // gsi1sk is `<createdAt>#<id>`: a run created at `to` sorts after `to` itself, so is out.
          KeyConditionExpression: "gsi1pk = :app AND gsi1sk BETWEEN :from AND :to",
          ExpressionAttributeValues: { ":app": `APP#${app}#RUNS`, ":from": from, ":to": to },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      runs.push(...(page.Items ?? []).map((i) => RunSchema.parse(i)));
      start = page.LastEvaluatedKey;
    } while (start);
    return runs;
  }

  async lastGoodRevision(
    app: string,
    application: string,
    deploymentGroup: string,
  ): Promise<BundleRevision | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: groupKey(app, application, deploymentGroup),
        ConsistentRead: true,
      }),
    );
    return Item ? BundleRevisionSchema.parse(Item.revision) : undefined;
  }

  /**
   * Its events are numbered on from the run's `sequence`, and the write expects the run's
   * sequence unchanged: events of one run are numbered without gaps or repeats. The sequence is
   * the one this store last saw of the run (its get, or its last write), else read. When only
   * the sequence moved (another transition's events came first), the same transition, with its
   * own conditions, is written again on the new number.
   */
  async apply(runId: string, t: RunTransition, now: string): Promise<void> {
    if (t.events.length === 0) return this.write(runId, t, now, undefined);
    let seen = this.sequences.get(runId) ?? (await this.sequenceOf(runId));
    for (let tries = 1; ; tries++) {
      try {
        await this.write(runId, t, now, seen);
        if (seen) this.sequences.set(runId, { ...seen, sequence: seen.sequence + t.events.length });
        return;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        const current = await this.sequenceOf(runId);
        if (current?.sequence === seen?.sequence || tries >= SEQUENCE_RETRIES) throw err;
        seen = current;
      }
    }
  }

  private async sequenceOf(runId: string): Promise<RunSequence | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: `RUN#${runId}`, sk: "RUN" },
        ProjectionExpression: "#sequence, app",
        ExpressionAttributeNames: { "#sequence": "sequence" },
        ConsistentRead: true,
      }),
    );
    return Item ? this.noteSequence(runId, Item) : undefined;
  }

  /** The run item's event sequence and app, kept as the store's latest sight of them. */
  private noteSequence(runId: string, item: Record<string, unknown>): RunSequence {
    const seen = {
      sequence: typeof item.sequence === "number" ? item.sequence : 0,
      app: String(item.app),
    };
    this.sequences.set(runId, seen);
    return seen;
  }

  private async write(
    runId: string,
    t: RunTransition,
    now: string,
    seen: RunSequence | undefined,
  ): Promise<void> {
    const sets = ["updatedAt = :now"];
    const names: Record<string, string> = { "#status": "status" };
    const values: Record<string, unknown> = { ":now": now };
    for (const [field, value] of Object.entries(t.set)) {
      if (value === undefined) continue;
      sets.push(`#${field} = :${field}`);
      names[`#${field}`] = field;
      values[`:${field}`] = value;
    }
    const removes = (t.remove ?? []).map((field) => {
      names[`#${field}`] = field;
      return `#${field}`;
    });
    const conditions = [
      `#status IN (${t.expect.status.map((_, i) => `:expected${i}`).join(", ")})`,
    ];
    t.expect.status.forEach((s, i) => {
      values[`:expected${i}`] = s;
    });
    if (t.expect.cursor !== undefined) {
      names["#cursor"] = "cursor";
      values[":expectedCursor"] = t.expect.cursor;
      conditions.push("#cursor = :expectedCursor");
    }
    if (seen) {
      names["#sequence"] = "sequence";
      values[":nextSequence"] = seen.sequence + t.events.length;
      sets.push("#sequence = :nextSequence");
      if (seen.sequence === 0) {
        conditions.push("(attribute_not_exists(#sequence) OR #sequence = :noSequence)");
        values[":noSequence"] = 0;
      } else {
        values[":seenSequence"] = seen.sequence;
        conditions.push("#sequence = :seenSequence");
      }
    }
    if (t.expect.attempt !== undefined) {
      names["#attempt"] = "attempt";
      values[":expectedAttempt"] = t.expect.attempt;
      conditions.push("#attempt = :expectedAttempt");
    }
    if (t.expect.rollbackPosition !== undefined) {
      names["#rollback"] = "rollback";
      if (t.expect.rollbackPosition < 0) {
        conditions.push("attribute_not_exists(#rollback)");
      } else {
        names["#position"] = "position";
        values[":expectedPosition"] = t.expect.rollbackPosition;
        conditions.push("#rollback.#position = :expectedPosition");
      }
    }
    await this.transact(
      [
        {
          Update: {
            TableName: this.table,
            Key: { pk: `RUN#${runId}`, sk: "RUN" },
            UpdateExpression: `SET ${sets.join(", ")}${removes.length ? ` REMOVE ${removes.join(", ")}` : ""}`,
            ConditionExpression: conditions.join(" AND "),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          },
        },
        ...t.steps.map((step): TransactItem => {
          const put = { TableName: this.table, Item: { ...stepKeys(runId, step), ...step } };
          const guard = t.expect.step;
          if (guard?.index !== step.index || guard.attempt !== step.attempt) return { Put: put };
          return {
            Put: {
              ...put,
              ...(guard.version === 0
                ? { ConditionExpression: "attribute_not_exists(#version)" }
                : {
                    ConditionExpression: "#version = :version",
                    ExpressionAttributeValues: { ":version": guard.version },
                  }),
              ExpressionAttributeNames: { "#version": "version" },
            },
          };
        }),
        ...(t.spendsLink
          ? [
              {
                Update: {
                  TableName: this.table,
                  Key: approvalLinkItemKey(t.spendsLink.tokenHash),
                  UpdateExpression: "SET usedAt = :at",
                  ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(usedAt)",
                  ExpressionAttributeValues: { ":at": t.spendsLink.at },
                },
              } satisfies TransactItem,
            ]
          : []),
        // Operators' actions before the events they led to, so their entries sort before them.
        ...(t.audit ?? []).map((action) => auditRecord(this.table, action)),
        ...(seen
          ? this.eventPuts({ id: runId, app: seen.app }, t.events, seen.sequence + 1, now)
          : []),
        ...(t.waits ?? []).map(
          (wait): TransactItem => ({ Put: { TableName: this.table, Item: waitItem(wait) } }),
        ),
        ...(t.watches ?? []).map(
          (watch): TransactItem => ({ Put: { TableName: this.table, Item: watchItem(watch) } }),
        ),
        ...(t.releases ?? []).map(
          (release): TransactItem => ({
            Put: {
              TableName: this.table,
              Item: {
                ...groupKey(release.app, release.application, release.deploymentGroup),
                runId,
                at: now,
                revision: release.revision,
              },
            },
          }),
        ),
      ],
      runId,
      `run ${runId} changed meanwhile (expected ${t.expect.status.join(" or ")})`,
    );
  }

  /** The Step Functions task token a step waits on; kept out of every answer about the run. */
  async putTaskToken(runId: string, index: number, attempt: number, token: string): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: `RUN#${runId}`, sk: tokenSortKey(index, attempt), token },
      }),
    );
  }

  async taskToken(runId: string, index: number, attempt: number): Promise<string | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: `RUN#${runId}`, sk: tokenSortKey(index, attempt) },
        ConsistentRead: true,
      }),
    );
    return typeof Item?.token === "string" ? Item.token : undefined;
  }

  /**
   * The events' outbox items (which the stream publishes, and their time to live removes a week
   * later), then their audit entries (kept), each pair with the same eventId and sequence,
   * numbered on from `firstSequence`. The outbox items come together: the local stack's stream
   * ends a batch at a record its consumer's filter leaves out, so between audit entries each
   * event cost publishEvents a call of its own; together, a change's events take one call.
   */
  private eventPuts(
    run: { id: string; app: string },
    events: readonly LifecycleEvent[],
    firstSequence: number,
    now: string,
  ): TransactItem[] {
    const outbox: TransactItem[] = [];
    const audit: TransactItem[] = [];
    events.forEach((event, i) => {
      const sequence = firstSequence + i;
      const id = newEntryId(Date.parse(now));
      const detail = { ...event.detail, [EVENT_ID_FIELD]: id, [EVENT_SEQUENCE_FIELD]: sequence };
      outbox.push({
        Put: {
          TableName: this.table,
          Item: {
            pk: `RUN#${run.id}`,
            sk: `EVENT#${id}`,
            [EVENT_ID_FIELD]: id,
            detailType: event.detailType,
            detail,
            expiresAt: Math.floor(Date.parse(now) / 1000) + OUTBOX_RETENTION_SECONDS,
          },
        },
      });
      audit.push(
        auditEntryPut(this.table, {
          id,
          at: now,
          app: run.app,
          runId: run.id,
          kind: "event",
          type: event.detailType,
          ...actorOfEvent(detail),
          sequence,
          eventId: id,
          detail,
        }),
      );
    });
    return [...outbox, ...audit];
  }

  /** A condition that failed, on the run item or another, is a ConflictError. */
  private async transact(items: TransactItem[], runId: string, conflict: string): Promise<void> {
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      if (err instanceof TransactionCanceledException) {
        const reasons = err.CancellationReasons ?? [];
        // The run's item, a guarded step record or a spent link: each is read anew and retried.
        if (reasons.some((r) => r.Code === "ConditionalCheckFailed")) {
          throw new ConflictError(conflict, { cause: err });
        }
        throw new TransientError(
          `the write to run ${runId} was cancelled by another one; try again`,
          {
            cause: err,
          },
        );
      }
      throw err;
    }
  }
}

/**
 * An outbox item of partition `pk`: the table's stream publishes every `EVENT#` item to the bus
 * (publishEvents), whatever partition it is in.
 */
export function outboxItem(pk: string, event: LifecycleEvent, now: string) {
  const id = newEntryId(Date.parse(now));
  return {
    pk,
    sk: `EVENT#${id}`,
    [EVENT_ID_FIELD]: id,
    detailType: event.detailType,
    detail: { ...event.detail, [EVENT_ID_FIELD]: id },
    expiresAt: Math.floor(Date.parse(now) / 1000) + OUTBOX_RETENTION_SECONDS,
  };
}

/**
 * What an operator did by starting a run through the API: a rollback to a named release, a
 * release of an uploaded bundle, or a run of a commit.
 */
function startActionOf(run: Run): "rollback" | "release" | "run" {
  if (run.kind === "rollback") return "rollback";
  return run.revision.type === "bundle" ? "release" : "run";
}

/** The revision that last succeeded in one of an app's deployment groups. */
function groupKey(app: string, application: string, deploymentGroup: string) {
  return { pk: `APP#${app}`, sk: `GROUP#${application}#${deploymentGroup}` };
}

function claimItem(claim: IntakeClaim): Record<string, unknown> {
  switch (claim.kind) {
    case "delivery":
      return deliveryItem(claim.delivery);
    case "payload":
      return payloadItem(claim.delivery);
    case "release":
      return releaseItem(claim.release);
  }
}

/** The first claim a cancelled transaction found made before, from its cancellation reasons. */
function takenClaim(err: unknown, claims: readonly IntakeClaim[]): ClaimTakenError | undefined {
  const cancelled = (err as { cause?: unknown }).cause;
  if (!(cancelled instanceof TransactionCanceledException)) return undefined;
  // The run's own item comes first, then the claims in order.
  const reasons = cancelled.CancellationReasons?.slice(1, 1 + claims.length) ?? [];
  for (const [i, reason] of reasons.entries()) {
    if (reason.Code !== "ConditionalCheckFailed" || !reason.Item) continue;
    const claim = claims[i] as IntakeClaim;
    const item = unmarshall(reason.Item as never);
    const taken: TakenClaim =
      claim.kind === "delivery"
        ? { kind: "delivery", holder: DeliveryRecordSchema.parse(item) }
        : claim.kind === "payload"
          ? { kind: "payload", holder: PayloadHolderSchema.parse(item) }
          : { kind: "release", holder: BundleReleaseSchema.parse(item) };
    return new ClaimTakenError(taken, { cause: cancelled });
  }
  return undefined;
}

function runKeys(run: Run): Record<string, string> {
  return {
    pk: `RUN#${run.id}`,
    sk: "RUN",
    gsi1pk: `APP#${run.app}#RUNS`,
    gsi1sk: `${run.createdAt}#${run.id}`,
    gsi2pk: "RUNS",
    gsi2sk: `${run.createdAt}#${run.id}`,
  };
}

const pad = (n: number) => String(n).padStart(3, "0");

function stepKeys(runId: string, step: StepRecord) {
  return { pk: `RUN#${runId}`, sk: `STEP#${pad(step.index)}#${pad(step.attempt)}` };
}

function tokenSortKey(index: number, attempt: number): string {
  return `TOKEN#${pad(index)}#${pad(attempt)}`;
}

/** The stack's run store, over the container's client. */
export function runStore(): RunStore {
  return new RunStore(dynamoDocument(), stackConfig().table);
}
