import type { Change, ChangeRecorder } from "./change-recorder";
import type { DynaliteBackend, WireAnswer } from "./dynalite-backend";
import { type Item, pick } from "./items";
import type { KeyLocks } from "./key-locks";
import { type KeySchema, TableCatalog } from "./tables";
import type { UndoImage, UndoJournal } from "./undo-journal";

export type Input = Record<string, unknown>;

/** The parts every write-path module shares. */
export interface WritePath {
  backend: DynaliteBackend;
  catalog: TableCatalog;
  locks: KeyLocks;
  journal: UndoJournal;
  recorder: ChangeRecorder;
  /** Transactions being applied: a Query or Scan waits for those it arrives during. */
  transactionsInFlight: Set<Promise<unknown>>;
}

/** An item a request names: its table, its key, and the lock that key goes by. */
export interface Target {
  table: string;
  key: Item;
  lock: string;
}

export async function targetOf(
  catalog: TableCatalog,
  table: unknown,
  item: unknown,
): Promise<Target | undefined> {
  if (typeof table !== "string" || !item || typeof item !== "object") return undefined;
  const schema: KeySchema | undefined = await catalog.keySchema(table);
  const lock = schema && TableCatalog.lockName(table, schema, item as Item);
  return schema && lock ? { table, key: pick(item as Item, schema.names), lock } : undefined;
}

const CONDITIONAL_FAILURE = "ConditionalCheckFailedException";

export function isConditionalFailure(answer: WireAnswer): boolean {
  return answer.status === 400 && answer.body.includes(CONDITIONAL_FAILURE);
}

/** The answer of a failed condition, with the item as it was when DynamoDB is asked for it. */
export function withItemOnFailure(
  answer: WireAnswer,
  input: Input,
  old: Item | undefined,
): WireAnswer {
  if (!old || input.ReturnValuesOnConditionCheckFailure !== "ALL_OLD") return answer;
  if (!isConditionalFailure(answer)) return answer;
  return { status: answer.status, body: JSON.stringify({ ...JSON.parse(answer.body), Item: old }) };
}

function ok(body: unknown): WireAnswer {
  return { status: 200, body: JSON.stringify(body) };
}

/**
 * PutItem, UpdateItem, DeleteItem and BatchWriteItem, each holding its items' locks so no
 * transaction interleaves, and, on a table with a stream or time to live, reading the item
 * before and after so the change is recorded. dynalite applies every write, its conditions
 * and validation included; its answers go back unchanged.
 */
export class ItemWrites {
  constructor(private readonly path: WritePath) {}

  putItem(raw: string, input: Input): Promise<WireAnswer> {
    return this.single("PutItem", raw, input, input.Item, async () => {
      const answer = await this.path.backend.send("PutItem", raw);
      return { answer, image: input.Item as Item };
    });
  }

  updateItem(raw: string, input: Input): Promise<WireAnswer> {
    return this.single("UpdateItem", raw, input, input.Key, async (target) => {
      const asked = input.ReturnValues;
      if (asked === undefined || asked === "NONE" || asked === "ALL_NEW") {
        const answer = await this.path.backend.send(
          "UpdateItem",
          JSON.stringify({ ...input, ReturnValues: "ALL_NEW" }),
        );
        if (answer.status !== 200) return { answer };
        const { Attributes, ...rest } = JSON.parse(answer.body) as { Attributes?: Item };
        return { answer: asked === "ALL_NEW" ? answer : ok(rest), image: Attributes };
      }
      const answer = await this.path.backend.send("UpdateItem", raw);
      if (answer.status !== 200) return { answer };
      return { answer, image: await this.path.backend.getItem(target.table, target.key) };
    });
  }

  deleteItem(raw: string, input: Input): Promise<WireAnswer> {
    return this.single("DeleteItem", raw, input, input.Key, async () => ({
      answer: await this.path.backend.send("DeleteItem", raw),
      image: undefined,
    }));
  }

  async batchWriteItem(raw: string, input: Input): Promise<WireAnswer> {
    const requests = Object.entries((input.RequestItems ?? {}) as Record<string, unknown>);
    const writes: { target: Target; image: Item | undefined }[] = [];
    for (const [table, list] of requests) {
      for (const request of Array.isArray(list) ? list : []) {
        const put = (request as { PutRequest?: { Item?: Item } }).PutRequest?.Item;
        const del = (request as { DeleteRequest?: { Key?: Item } }).DeleteRequest?.Key;
        const target = await targetOf(this.path.catalog, table, put ?? del);
        // dynalite answers a malformed batch with DynamoDB's validation error.
        if (!target) return this.path.backend.send("BatchWriteItem", raw);
        writes.push({ target, image: put });
      }
    }
    const locks = writes.map((w) => w.target.lock);
    if (new Set(locks).size !== locks.length) return this.path.backend.send("BatchWriteItem", raw);
    return this.path.locks.hold(locks, async () => {
      if (!writes.some((w) => this.path.catalog.observed(w.target.table))) {
        return this.path.backend.send("BatchWriteItem", raw);
      }
      const olds = await Promise.all(
        writes.map((w) => this.path.backend.getItem(w.target.table, w.target.key)),
      );
      const undo = writes.flatMap((w, i) =>
        this.path.catalog.stream(w.target.table) ? [undoImage(w.target, olds[i])] : [],
      );
      const journal = undo.length ? this.path.journal.begin(undo) : undefined;
      try {
        const answer = await this.path.backend.send("BatchWriteItem", raw);
        if (answer.status === 200) {
          this.path.recorder.record(
            writes.map((w, i) => change(w.target, olds[i], w.image)),
            journal,
          );
        }
        return answer;
      } finally {
        if (journal) this.path.journal.end(journal);
      }
    });
  }

  /** Deletes an item whose time to live has passed, as DynamoDB's own service principal. */
  async expire(target: Target, attribute: string, nowSeconds: number): Promise<boolean> {
    return this.path.locks.hold([target.lock], async () => {
      const old = await this.path.backend.getItem(target.table, target.key);
      const expiresAt = Number(old?.[attribute]?.N);
      if (!old || !(expiresAt < nowSeconds)) return false;
      const journal = this.path.catalog.stream(target.table)
        ? this.path.journal.begin([undoImage(target, old)])
        : undefined;
      try {
        await this.path.backend.call("DeleteItem", { TableName: target.table, Key: target.key });
        this.path.recorder.record(
          [{ ...change(target, old, undefined), byService: true }],
          journal,
        );
        return true;
      } finally {
        if (journal) this.path.journal.end(journal);
      }
    });
  }

  private async single(
    operation: string,
    raw: string,
    input: Input,
    keySource: unknown,
    apply: (target: Target) => Promise<{ answer: WireAnswer; image?: Item | undefined }>,
  ): Promise<WireAnswer> {
    const target = await targetOf(this.path.catalog, input.TableName, keySource);
    if (!target) return this.path.backend.send(operation, raw);
    const { backend, catalog, journal, locks, recorder } = this.path;
    return locks.hold([target.lock], async () => {
      if (!catalog.observed(target.table)) {
        const answer = await backend.send(operation, raw);
        if (
          input.ReturnValuesOnConditionCheckFailure !== "ALL_OLD" ||
          !isConditionalFailure(answer)
        ) {
          return answer;
        }
        return withItemOnFailure(answer, input, await backend.getItem(target.table, target.key));
      }
      const old = await backend.getItem(target.table, target.key);
      const entry = catalog.stream(target.table)
        ? journal.begin([undoImage(target, old)])
        : undefined;
      try {
        const { answer, image } = await apply(target);
        if (answer.status !== 200) return withItemOnFailure(answer, input, old);
        recorder.record([change(target, old, image)], entry);
        return answer;
      } finally {
        if (entry) journal.end(entry);
      }
    });
  }
}

export function undoImage(target: Target, old: Item | undefined): UndoImage {
  return { table: target.table, key: target.key, ...(old ? { old } : {}) };
}

export function change(target: Target, old: Item | undefined, image: Item | undefined): Change {
  return { table: target.table, lock: target.lock, key: target.key, old, new: image };
}
