import { mkdirSync } from "node:fs";
import path from "node:path";
import { close, listen } from "../aws-json-server";
import type { InjectedError } from "../faults";
import { ChangeRecorder } from "./change-recorder";
import { DynaliteBackend } from "./dynalite-backend";
import { ExpiryIndex } from "./expiry-index";
import { ExpirySweeper } from "./expiry-sweeper";
import { createFront } from "./front";
import { ItemReads } from "./item-reads";
import { ItemWrites } from "./item-writes";
import { KeyLocks } from "./key-locks";
import { RequestTokens } from "./request-tokens";
import { type StreamConsumer, StreamDelivery, type StreamHandler } from "./stream-delivery";
import { StreamLog } from "./stream-log";
import { streamsApi } from "./streams-api";
import { TableCatalog } from "./tables";
import { type TransactionHooks, Transactions } from "./transactions";
import { UndoJournal } from "./undo-journal";

export type { StreamConsumer, StreamHandler } from "./stream-delivery";

export interface LocalDynamoDbOptions {
  /** The DynamoDB state folder: dynalite's store log, and beside it the front's own files. */
  dir: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  region?: string;
  accountId?: string;
  /** An error to answer a call with instead, as a test asked (see local/faults.ts). */
  fault?: (operation: string) => InjectedError | undefined;
  /** How often expired items are swept; 0 sweeps only when sweepExpired() is called. */
  ttlSweepIntervalMs?: number;
  /** A failing stream batch is retried after this, doubling each time up to the maximum. */
  streamRetryBaseDelayMs?: number;
  streamRetryMaxDelayMs?: number;
  /** For crash tests only: run around each item of a transaction as it is applied. */
  transactionHooks?: TransactionHooks;
}

export interface LocalDynamoDb {
  endpoint: string;
  streams: {
    /** Delivers the table's stream to the handler, as a Lambda event source mapping would. */
    subscribe(consumer: StreamConsumer, handler: StreamHandler): void;
    /** Resolves once every consumer has been handed every record so far and succeeded or given up. */
    idle(): Promise<void>;
    /** Stops delivering; a batch in flight finishes, and its checkpoint is kept. */
    close(): Promise<void>;
  };
  /** One time-to-live sweep now (at `now`, epoch ms); resolves with the number of items deleted. */
  sweepExpired(now?: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * A local DynamoDB: dynalite, with what it lacks added in front of it on the same SDK calls:
 * TransactWriteItems and TransactGetItems, DynamoDB Streams delivered to subscribers the way an
 * event source mapping does, and time to live with expiry. At start it first undoes any write a
 * crash cut half-way (from the undo journal).
 */
export async function startLocalDynamoDb(options: LocalDynamoDbOptions): Promise<LocalDynamoDb> {
  const region = options.region ?? "us-east-1";
  const accountId = options.accountId ?? "000000000000";
  const ownDir = path.join(options.dir, "front");
  mkdirSync(ownDir, { recursive: true });

  const backend = await DynaliteBackend.open(options.dir);
  const catalog = TableCatalog.open(path.join(ownDir, "tables.json"), backend, region, accountId);
  const journal = UndoJournal.open(path.join(ownDir, "undo-journal.jsonl"));
  const log = StreamLog.open(
    path.join(ownDir, "stream-records.jsonl"),
    journal.unfinished.map((w) => w.id),
  );
  for (const write of [...journal.unfinished].reverse()) {
    // A write that got as far as its stream records had committed; any other is undone.
    if (log.hasRecordsOf(write.id)) continue;
    for (const image of [...write.images].reverse()) {
      await backend.restore(image.table, image.key, image.old);
    }
  }
  journal.settled();

  const locks = new KeyLocks();
  const expiry = new ExpiryIndex();
  const writePath = {
    backend,
    catalog,
    locks,
    journal,
    recorder: new ChangeRecorder(catalog, log, expiry),
    transactionsInFlight: new Set<Promise<unknown>>(),
  };
  const writes = new ItemWrites(writePath);
  const tokens = RequestTokens.open(path.join(ownDir, "request-tokens.jsonl"));
  const transactions = new Transactions(writePath, tokens, options.transactionHooks ?? {});
  const sweeper = new ExpirySweeper(backend, catalog, expiry, writes);
  for (const { table, attributeName } of catalog.ttlTables())
    sweeper.indexTable(table, attributeName);
  const delivery = new StreamDelivery(log, path.join(ownDir, "checkpoints"), region, {
    retryBaseDelayMs: options.streamRetryBaseDelayMs ?? 1000,
    retryMaxDelayMs: options.streamRetryMaxDelayMs ?? 60_000,
  });

  const front = createFront({
    backend,
    catalog,
    writes,
    reads: new ItemReads(writePath),
    transactions,
    sweeper,
    streams: streamsApi(catalog, log, region),
    ...(options.fault ? { fault: options.fault } : {}),
  });
  let port: number;
  try {
    port = await listen(front, options.port ?? 0);
  } catch (err) {
    await sweeper.stop();
    await backend.close();
    journal.close();
    log.close();
    tokens.close();
    throw err;
  }
  const interval = options.ttlSweepIntervalMs ?? 5000;
  if (interval > 0) sweeper.start(interval);

  return {
    endpoint: `http://127.0.0.1:${port}`,
    streams: {
      subscribe: (consumer, handler) => delivery.subscribe(consumer, handler),
      idle: () => delivery.idle(),
      close: () => delivery.close(),
    },
    sweepExpired: (now) => sweeper.sweep(now),
    close: async () => {
      await delivery.close();
      await sweeper.stop();
      await close(front);
      await backend.close();
      journal.close();
      log.close();
      tokens.close();
    },
  };
}
