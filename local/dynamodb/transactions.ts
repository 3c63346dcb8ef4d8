import { z } from "zod";
import type { Change } from "./change-recorder";
import { DynamoDbError, serviceError, validationError } from "./errors";
import {
  change,
  type Input,
  type Target,
  targetOf,
  undoImage,
  type WritePath,
} from "./item-writes";
import type { Item } from "./items";
import { fingerprintOf, type RequestTokens } from "./request-tokens";

const Expression = {
  ConditionExpression: z.string().optional(),
  ExpressionAttributeNames: z.record(z.string(), z.string()).optional(),
  ExpressionAttributeValues: z.record(z.string(), z.unknown()).optional(),
  ReturnValuesOnConditionCheckFailure: z.enum(["ALL_OLD", "NONE"]).optional(),
};
const ItemMap = z.record(z.string(), z.record(z.string(), z.unknown()));
const WriteItemSchema = z
  .object({
    Put: z
      .object({ TableName: z.string(), Item: ItemMap, ...Expression })
      .loose()
      .optional(),
    Update: z
      .object({ TableName: z.string(), Key: ItemMap, UpdateExpression: z.string(), ...Expression })
      .loose()
      .optional(),
    Delete: z
      .object({ TableName: z.string(), Key: ItemMap, ...Expression })
      .loose()
      .optional(),
    ConditionCheck: z
      .object({
        TableName: z.string(),
        Key: ItemMap,
        ...Expression,
        ConditionExpression: z.string(),
      })
      .loose()
      .optional(),
  })
  .refine((item) => Object.values(item).filter(Boolean).length === 1, {
    message: "TransactItems can only contain one of Check, Put, Update or Delete",
  });
const TransactWriteSchema = z.object({
  TransactItems: z.array(WriteItemSchema).min(1).max(100),
  ClientRequestToken: z.string().min(1).max(36).optional(),
});
const TransactGetSchema = z.object({
  TransactItems: z
    .array(
      z.object({
        Get: z
          .object({
            TableName: z.string(),
            Key: ItemMap,
            ProjectionExpression: z.string().optional(),
            ExpressionAttributeNames: z.record(z.string(), z.string()).optional(),
          })
          .loose(),
      }),
    )
    .min(1)
    .max(100),
});

/** For crash tests: run around each item of a transaction as it is applied. */
export interface TransactionHooks {
  beforeItem?: (index: number) => Promise<void>;
  afterItem?: (index: number) => Promise<void>;
}

type WriteItem = z.infer<typeof WriteItemSchema>;
type Kind = "Put" | "Update" | "Delete" | "ConditionCheck";
type Outcome = { ok: true; image?: Item | undefined } | { ok: false; error: DynamoDbError };

/**
 * TransactWriteItems and TransactGetItems over dynalite, which has neither. A transaction locks
 * all its items, reads them, journals their old images, then applies every item with dynalite's
 * own conditional writes (a ConditionCheck as a write that changes nothing). If any condition
 * fails, the items already applied are put back from the images, and the caller gets DynamoDB's
 * TransactionCanceledException with one reason per item. Nothing else writes those items
 * meanwhile, and reads of them wait, so no one sees a transaction half-applied; Query and Scan
 * do not wait (DynamoDB promises them only read-committed).
 */
export class Transactions {
  constructor(
    private readonly path: WritePath,
    private readonly tokens: RequestTokens,
    private readonly hooks: TransactionHooks = {},
  ) {}

  async transactWriteItems(input: Input): Promise<Record<string, unknown>> {
    const request = parse(TransactWriteSchema, input);
    const token = request.ClientRequestToken;
    // Only a token's retry is compared with what came before.
    const fingerprint = token ? fingerprintOf(input) : "";
    if (token) {
      const seen = this.tokens.lookup(token);
      if (seen === "in progress") {
        throw serviceError(
          "TransactionInProgressException",
          "Transaction with the given request token is already in progress.",
        );
      }
      if (seen !== "unseen") {
        if (seen.request !== fingerprint) {
          throw serviceError(
            "IdempotentParameterMismatchException",
            "Request parameters do not match the parameters of the request made with this client token.",
          );
        }
        return {};
      }
      this.tokens.begin(token);
    }
    const applying = this.apply(
      request.TransactItems,
      token ? () => this.tokens.committed(token, fingerprint) : undefined,
    );
    const inFlight = this.path.transactionsInFlight;
    inFlight.add(applying);
    try {
      await applying;
      return {};
    } finally {
      inFlight.delete(applying);
      if (token) this.tokens.abandon(token);
    }
  }

  async transactGetItems(input: Input): Promise<Record<string, unknown>> {
    const request = parse(TransactGetSchema, input);
    const targets = await this.targets(request.TransactItems.map((item) => item.Get));
    return this.path.locks.hold(
      targets.map((t) => t.lock),
      async () => {
        const answers = await Promise.all(
          request.TransactItems.map((item) =>
            this.path.backend.call<{ Item?: Item }>("GetItem", {
              ...item.Get,
              ConsistentRead: true,
            }),
          ),
        );
        return { Responses: answers.map((a) => (a.Item ? { Item: a.Item } : {})) };
      },
    );
  }

  /** Applies the items; `onCommit` runs once they are, before the journal entry is closed. */
  private async apply(items: WriteItem[], onCommit?: () => void): Promise<void> {
    const operations = items.map((item) => {
      const kind = (Object.keys(item) as Kind[]).find((k) => item[k]) as Kind;
      return { kind, spec: item[kind] as Input & { TableName: string } };
    });
    const targets = await this.targets(
      operations.map(({ spec }) => ({
        TableName: spec.TableName,
        Key: (spec.Key ?? spec.Item) as Item,
      })),
    );
    const { backend, journal, locks, recorder } = this.path;
    await locks.hold(
      targets.map((t) => t.lock),
      async () => {
        const olds = await Promise.all(targets.map((t) => backend.getItem(t.table, t.key)));
        const entry = journal.begin(
          operations.flatMap(({ kind }, i) =>
            kind === "ConditionCheck" ? [] : [undoImage(targets[i] as Target, olds[i])],
          ),
        );
        try {
          const settled = await Promise.allSettled(
            operations.map(async ({ kind, spec }, i): Promise<Outcome> => {
              await this.hooks.beforeItem?.(i);
              const outcome = await this.applyOne(kind, spec, olds[i]);
              await this.hooks.afterItem?.(i);
              return outcome;
            }),
          );
          const outcomes = settled.map((result): Outcome | undefined =>
            result.status === "fulfilled" ? result.value : undefined,
          );
          if (outcomes.every((o) => o?.ok)) {
            const changes: Change[] = operations.flatMap(({ kind }, i) => {
              const outcome = outcomes[i] as { image?: Item };
              return kind === "ConditionCheck"
                ? []
                : [change(targets[i] as Target, olds[i], outcome.image)];
            });
            recorder.record(changes, entry);
            onCommit?.();
            return;
          }
          // Put back every item that was, or may have been, applied.
          for (const [i, { kind }] of operations.entries()) {
            const target = targets[i] as Target;
            const outcome = outcomes[i];
            if (kind !== "ConditionCheck" && (!outcome || outcome.ok)) {
              await backend.restore(target.table, target.key, olds[i]);
            }
          }
          const unexpected = settled.find((r) => r.status === "rejected");
          if (unexpected) throw unexpected.reason;
          throw cancellation(operations, outcomes, olds);
        } finally {
          journal.end(entry);
        }
      },
    );
  }

  private async applyOne(kind: Kind, spec: Input, old: Item | undefined): Promise<Outcome> {
    const { backend } = this.path;
    const { ReturnValuesOnConditionCheckFailure: _, ...operation } = spec;
    try {
      switch (kind) {
        case "Put":
          await backend.call("PutItem", operation);
          return { ok: true, image: operation.Item as Item };
        case "Update": {
          const answer = await backend.call<{ Attributes?: Item }>("UpdateItem", {
            ...operation,
            ReturnValues: "ALL_NEW",
          });
          return { ok: true, image: answer.Attributes };
        }
        case "Delete":
          await backend.call("DeleteItem", operation);
          return { ok: true };
        case "ConditionCheck": {
          // The condition, evaluated by dynalite, through a write that leaves the item as it is.
          const { Key, ...condition } = operation;
          if (old) await backend.call("PutItem", { ...condition, Item: old });
          else await backend.call("DeleteItem", { ...condition, Key });
          return { ok: true };
        }
      }
    } catch (err) {
      if (err instanceof DynamoDbError) return { ok: false, error: err };
      throw err;
    }
  }

  private async targets(specs: { TableName: string; Key: Item }[]): Promise<Target[]> {
    const targets: Target[] = [];
    for (const spec of specs) {
      const schema = await this.path.catalog.requireTable(spec.TableName);
      const target = await targetOf(this.path.catalog, spec.TableName, spec.Key);
      if (!target || Object.keys(spec.Key).length < schema.names.length) {
        throw validationError("The provided key element does not match the schema");
      }
      targets.push(target);
    }
    if (new Set(targets.map((t) => t.lock)).size !== targets.length) {
      throw validationError("Transaction request cannot include multiple operations on one item");
    }
    return targets;
  }
}

function cancellation(
  operations: { kind: Kind; spec: Input }[],
  outcomes: (Outcome | undefined)[],
  olds: (Item | undefined)[],
): DynamoDbError {
  const other = outcomes.find(
    (o): o is { ok: false; error: DynamoDbError } =>
      o?.ok === false && o.error.name !== "ConditionalCheckFailedException",
  );
  // A malformed item fails the whole request, as in DynamoDB, rather than cancelling it.
  if (other && other.error.name === "ValidationException") return other.error;
  const reasons = outcomes.map((outcome, i) => {
    if (!outcome || outcome.ok) return { Code: "None" };
    if (outcome.error.name !== "ConditionalCheckFailedException") {
      return { Code: outcome.error.name, Message: outcome.error.message };
    }
    const old = olds[i];
    const wantsItem = operations[i]?.spec.ReturnValuesOnConditionCheckFailure === "ALL_OLD";
    return {
      Code: "ConditionalCheckFailed",
      ...(wantsItem && old ? { Item: old } : {}),
      Message: "The conditional request failed",
    };
  });
  return serviceError("TransactionCanceledException", "", {
    message: undefined,
    Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(", ")}]`,
    CancellationReasons: reasons,
  });
}

function parse<T>(schema: z.ZodType<T>, input: Input): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  throw validationError(
    `${issues.length} validation error${issues.length === 1 ? "" : "s"} detected: ${issues
      .map((i) => `Value at '${i.path.join(".")}' failed to satisfy constraint: ${i.message}`)
      .join("; ")}`,
  );
}
