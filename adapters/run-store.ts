import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { ConflictError } from "../domain/errors";
import type { RunChange } from "../domain/progress";
import type { Revision } from "../domain/revision";
import {
  type Run,
  RunSchema,
  type RunStatus,
  type RunView,
  StageNameSchema,
  type StageRecord,
  StageRecordSchema,
} from "../domain/run";

const STAGE_ORDER = StageNameSchema.options;

/**
 * Runs in the single Sluice table. A run is one item whose `stages` map holds its stage
 * history, so a status change and its stage record are written together by one conditional
 * update (no transactions needed, and a retried step cannot half-apply).
 */
export class RunStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(run: Run): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...runKeys(run), ...run, stages: {} },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        throw new ConflictError(`run ${run.id} already exists`, { cause: err });
      }
      throw err;
    }
  }

  async get(runId: string): Promise<RunView | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: `RUN#${runId}`, sk: "RUN" },
        ConsistentRead: true,
      }),
    );
    return Item ? toRunView(Item) : undefined;
  }

  /** Newest first. */
  async listByApp(app: string, limit = 50): Promise<RunView[]> {
    const { Items = [] } = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: "byApp",
        KeyConditionExpression: "gsi1pk = :app",
        ExpressionAttributeValues: { ":app": `APP#${app}#RUNS` },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return Items.map(toRunView);
  }

  async setExecutionArn(runId: string, executionArn: string, now: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `RUN#${runId}`, sk: "RUN" },
        UpdateExpression: "SET executionArn = :arn, updatedAt = :now",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: { ":arn": executionArn, ":now": now },
      }),
    );
  }

  /** Records the exact revision the source stage resolved; only while the run is going. */
  async pinRevision(runId: string, revision: Revision, now: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `RUN#${runId}`, sk: "RUN" },
        UpdateExpression: "SET revision = :revision, updatedAt = :now",
        ConditionExpression: "#status = :running",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":revision": revision, ":now": now, ":running": "RUNNING" },
      }),
    );
  }

  /**
   * Writes a planned step: the run's new status and/or one stage record, only while the run
   * still has an expected status (a stage may only change while the run is RUNNING).
   */
  async applyProgress(
    runId: string,
    change: { run?: RunChange; stage?: StageRecord },
    now: string,
  ): Promise<void> {
    const sets = ["updatedAt = :now"];
    const names: Record<string, string> = { "#status": "status" };
    const values: Record<string, unknown> = { ":now": now };
    let expected: readonly RunStatus[] = ["RUNNING"];
    if (change.run) {
      const { expectedStatus, status, ...fields } = change.run;
      expected = expectedStatus;
      sets.push("#status = :status");
      values[":status"] = status;
      for (const [field, value] of Object.entries(fields)) {
        sets.push(`#${field} = :${field}`);
        names[`#${field}`] = field;
        values[`:${field}`] = value;
      }
    }
    if (change.stage) {
      sets.push("stages.#stage = :stage");
      names["#stage"] = change.stage.name;
      values[":stage"] = change.stage;
    }
    const allowed = expected.map((_, i) => `:expected${i}`);
    expected.forEach((s, i) => {
      values[`:expected${i}`] = s;
    });
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `RUN#${runId}`, sk: "RUN" },
          UpdateExpression: `SET ${sets.join(", ")}`,
          ConditionExpression: `#status IN (${allowed.join(", ")})`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        throw new ConflictError(
          `run ${runId} changed status meanwhile (expected ${expected.join(" or ")})`,
          { cause: err },
        );
      }
      throw err;
    }
  }
}

function runKeys(run: Run): Record<string, string> {
  return {
    pk: `RUN#${run.id}`,
    sk: "RUN",
    gsi1pk: `APP#${run.app}#RUNS`,
    gsi1sk: `${run.createdAt}#${run.id}`,
  };
}

function toRunView(item: Record<string, unknown>): RunView {
  const run = RunSchema.parse(item);
  const stages = Object.values((item.stages ?? {}) as Record<string, unknown>)
    .map((s) => StageRecordSchema.parse(s))
    .sort((a, b) => STAGE_ORDER.indexOf(a.name) - STAGE_ORDER.indexOf(b.name));
  return { ...run, stages };
}
