import type { Server } from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import dynalite from "dynalite";
import { listen } from "../aws-json-server";
import { DynamoDbError } from "./errors";
import { cacheDynaliteExpressions } from "./expression-cache";
import type { Item } from "./items";
import { type BatchOperation, LevelLog, type LevelWrites } from "./level-log";

/** A request as DynamoDB's JSON protocol carries it and the answer it got, both as text. */
export interface WireAnswer {
  status: number;
  body: string;
}

type Callback = (err: unknown, result?: unknown) => void;
type Table = { TableStatus?: string } & Record<string, unknown>;

/** What dynalite keeps behind its HTTP handler: one level db and the table definitions in it. */
interface DynaliteStore {
  /** The one level db every item, index and table db of the store reads and writes through. */
  db: LevelWrites & { batch(operations: BatchOperation[]): Promise<void> };
  getTable(name: string, checkStatus: boolean | Callback, cb?: Callback): void;
  getItemDb(table: string): { get(key: string, cb: Callback): void };
  tableDb: {
    put(key: string, value: unknown, cb: Callback): void;
    del(key: string, cb: Callback): void;
  };
}

interface DynaliteAction {
  run(store: DynaliteStore, data: unknown, cb: Callback): void;
  types: Record<string, unknown>;
  custom?: unknown;
}

const require = createRequire(import.meta.url);
const dynaliteDb = require("dynalite/db") as {
  create(options: unknown): DynaliteStore;
  validateKey(key: Item, table: Table): unknown;
  createKey(key: Item, table: Table): string;
};
const validations = require("dynalite/validations") as {
  checkTypes(data: unknown, types: Record<string, unknown>): unknown;
  checkValidations(
    data: unknown,
    types: Record<string, unknown>,
    custom: unknown,
    store: DynaliteStore,
  ): void;
};

/** dynalite's operations, as its HTTP handler lists them. */
const OPERATIONS = [
  "BatchGetItem",
  "BatchWriteItem",
  "CreateTable",
  "DeleteItem",
  "DeleteTable",
  "DescribeTable",
  "DescribeTimeToLive",
  "GetItem",
  "ListTables",
  "PutItem",
  "Query",
  "Scan",
  "TagResource",
  "UntagResource",
  "ListTagsOfResource",
  "UpdateItem",
  "UpdateTable",
];
/** Operations on items, which only read their table's definition. */
const ITEM_OPERATIONS = new Set([
  "BatchGetItem",
  "BatchWriteItem",
  "DeleteItem",
  "GetItem",
  "PutItem",
  "Query",
  "Scan",
  "UpdateItem",
]);

const ACTIONS: ReadonlyMap<string, DynaliteAction> = new Map(
  OPERATIONS.map((operation) => {
    const name = operation.charAt(0).toLowerCase() + operation.slice(1);
    const checks = require(`dynalite/validations/${name}`) as Omit<DynaliteAction, "run">;
    const run = require(`dynalite/actions/${name}`) as DynaliteAction["run"];
    return [operation, { run, types: checks.types, custom: checks.custom }];
  }),
);

const SERIALIZATION = { __type: "com.amazon.coral.service#SerializationException" };

/**
 * dynalite, its data in memory-level and every write of it logged under `dir` (see
 * level-log.ts), driven in this process. It also listens on a loopback port
 * of its own, which is how its store is closed and lets a person reach it directly, but the
 * front hands each request to dynalite's own validation and action, as its HTTP handler does
 * after checking a signature no one here makes: a TCP hop per call costs about four times what
 * the rest of the front adds, and the handler's request and response plumbing half again.
 * Item operations read their table's definition from a copy kept here, not from the store each
 * time; every write of a definition goes through the store's table db, which drops the copy.
 */
export class DynaliteBackend {
  private readonly tables = new Map<string, Table>();
  /** Moves on at every write of a definition, so a read begun before one is not kept. */
  private generation = 0;
  private readonly itemStore: DynaliteStore;

  private constructor(
    private readonly server: Server,
    private readonly store: DynaliteStore,
    private readonly log: LevelLog,
    readonly port: number,
  ) {
    this.watchDefinitionWrites();
    this.itemStore = Object.create(store, {
      getTable: { value: this.cachedGetTable.bind(this) },
    }) as DynaliteStore;
  }

  static async open(dir: string): Promise<DynaliteBackend> {
    cacheDynaliteExpressions();
    // The store dynalite builds its handler on, caught as dynalite creates it.
    let store: DynaliteStore | undefined;
    const create = dynaliteDb.create;
    dynaliteDb.create = (options) => {
      store = create(options);
      return store;
    };
    let server: Server;
    try {
      // No path: dynalite keeps its data in memory-level, and the log makes it durable.
      server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    } finally {
      dynaliteDb.create = create;
    }
    if (!store) throw new Error("dynalite built no store");
    const { log, entries } = await LevelLog.open(path.join(dir, "store.jsonl"), dir);
    const puts = [...entries].map(([key, value]): BatchOperation => ({ type: "put", key, value }));
    for (let i = 0; i < puts.length; i += 1000) await store.db.batch(puts.slice(i, i + 1000));
    log.logWritesTo(store.db);
    const port = await listen(server, 0);
    return new DynaliteBackend(server, store, log, port);
  }

  /** One operation, its body passed and its answer returned unchanged. */
  async send(operation: string, body: string): Promise<WireAnswer> {
    let data: unknown;
    try {
      data = body ? JSON.parse(body) : undefined;
    } catch {
      return { status: 400, body: JSON.stringify(SERIALIZATION) };
    }
    const answer = await this.run(operation, data);
    return { status: answer.status, body: JSON.stringify(answer.body) };
  }

  /** One operation as JSON; an error answer is thrown as a DynamoDbError. */
  async call<T = Record<string, unknown>>(operation: string, input: unknown): Promise<T> {
    // A copy: dynalite's validation edits what it is given.
    const answer = await this.run(operation, JSON.parse(JSON.stringify(input)));
    if (answer.status !== 200) throw new DynamoDbError(answer.status, answer.body);
    return answer.body as T;
  }

  /**
   * The item as stored, read as GetItem reads it but without its request: the front reads an
   * item before each write it must see whole. A key GetItem would refuse goes to GetItem, so
   * its error is the one thrown.
   */
  async getItem(table: string, key: Item): Promise<Item | undefined> {
    const definition = await new Promise<Table | undefined>((resolve) =>
      this.cachedGetTable(table, true, (err, found) => resolve(err ? undefined : (found as Table))),
    );
    if (!definition || dynaliteDb.validateKey(key, definition) != null) {
      const answer = await this.call<{ Item?: Item }>("GetItem", {
        TableName: table,
        Key: key,
        ConsistentRead: true,
      });
      return answer.Item;
    }
    const itemKey = dynaliteDb.createKey(key, definition);
    return new Promise((resolve, reject) =>
      this.store.getItemDb(table).get(itemKey, (err, item) => {
        if (err && (err as Error).name !== "NotFoundError") reject(err);
        else resolve((item as Item | undefined) ?? undefined);
      }),
    );
  }

  /** Puts the image back, or deletes the item when there was none: an undo, unconditional. */
  async restore(table: string, key: Item, image: Item | undefined): Promise<void> {
    if (image) await this.call("PutItem", { TableName: table, Item: image });
    else await this.call("DeleteItem", { TableName: table, Key: key });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.server.close((err) => (err ? reject(err) : resolve())),
    );
    this.log.close();
  }

  /** What dynalite's HTTP handler does with a signed request's parsed body. */
  private run(
    operation: string,
    data: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const action = ACTIONS.get(operation);
    if (!action) {
      return Promise.resolve({
        status: 400,
        body: { __type: "com.amazon.coral.service#UnknownOperationException" },
      });
    }
    if (data === undefined) return Promise.resolve({ status: 400, body: SERIALIZATION });
    const store = ITEM_OPERATIONS.has(operation) ? this.itemStore : this.store;
    return new Promise((resolve, reject) => {
      const answer: Callback = (err, result) => {
        const failed = err as { statusCode?: number; body?: Record<string, unknown> } | null;
        if (failed?.statusCode) resolve({ status: failed.statusCode, body: failed.body ?? {} });
        else if (err) reject(err);
        else resolve({ status: 200, body: (result ?? {}) as Record<string, unknown> });
      };
      try {
        const checked = validations.checkTypes(data, action.types);
        validations.checkValidations(checked, action.types, action.custom, store);
        action.run(store, checked, answer);
      } catch (err) {
        answer(err);
      }
    });
  }

  private cachedGetTable(name: string, checkStatus: boolean | Callback, cb?: Callback): void {
    const [check, callback] =
      typeof checkStatus === "function" ? [false, checkStatus] : [checkStatus, cb as Callback];
    const cached = this.tables.get(name);
    if (cached) {
      // Later, as the store's answer would be: dynalite's callers expect it after they return.
      queueMicrotask(() => callback(null, cached));
      return;
    }
    const generation = this.generation;
    this.store.getTable(name, check, (err, table) => {
      const definition = table as Table | undefined;
      if (!err && definition?.TableStatus === "ACTIVE" && generation === this.generation) {
        this.tables.set(name, definition);
      }
      callback(err, table);
    });
  }

  private watchDefinitionWrites(): void {
    const { tableDb } = this.store;
    const forget = () => {
      this.generation++;
      this.tables.clear();
    };
    const put = tableDb.put.bind(tableDb);
    const del = tableDb.del.bind(tableDb);
    tableDb.put = (key, value, cb) => {
      forget();
      put(key, value, cb);
    };
    tableDb.del = (key, cb) => {
      forget();
      del(key, cb);
    };
  }
}
