import { mkdirSync } from "node:fs";
import path from "node:path";
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { logger } from "../../http/logger";
import { matchesPattern } from "../event-pattern";
import { CheckpointFile } from "./checkpoint-file";
import type { StreamLog, StreamRecord } from "./stream-log";

/** A function reading a table's stream, as a Lambda event source mapping configures it. */
export interface StreamConsumer {
  /** Names the consumer's checkpoint: the function's name, say. Stable across restarts. */
  id: string;
  tableName: string;
  /** Records per invocation; DynamoDB's default is 100. */
  batchSize?: number;
  /** Retries of a failing batch before its records are skipped; -1 (the default) retries until they age out. */
  maximumRetryAttempts?: number;
  /** `functionResponseTypes: [ReportBatchItemFailures]`: a failing batch is retried from its first failed record. */
  reportBatchItemFailures?: boolean;
  /** EventBridge-style patterns over each record; a record that matches none is skipped. */
  filterPatterns?: Record<string, unknown>[];
  /** Where a consumer without a checkpoint begins. */
  startingPosition?: "TRIM_HORIZON" | "LATEST";
}

export type StreamHandler = (event: DynamoDBStreamEvent) => Promise<unknown>;

export interface DeliveryTiming {
  /** The first retry's wait; each further retry waits twice as long, up to retryMaxDelayMs. */
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
}

const RETENTION_MS = 24 * 60 * 60 * 1000;
/** As a page of GetRecords: how far past a batch's last record its next one is looked for. */
const MAX_SKIPPED_IN_BATCH = 1000;
/** How long a consumer's checkpoint may lag its deliveries; at most one write each this long. */
const CHECKPOINT_DELAY_MS = 100;

/**
 * Delivers stream records to their consumers the way a Lambda event source mapping does: one
 * batch at a time per consumer (a table's stream is one shard here), in sequence order, each
 * consumer's checkpoint kept in a file and moved on only after its handler succeeded. So a
 * record is delivered at least once, also across a restart or a SIGKILL.
 */
export class StreamDelivery {
  private readonly loops = new Set<ConsumerLoop>();
  private closed = false;

  constructor(
    private readonly log: StreamLog,
    private readonly checkpointDir: string,
    private readonly region: string,
    private readonly timing: DeliveryTiming,
  ) {
    mkdirSync(checkpointDir, { recursive: true });
  }

  subscribe(consumer: StreamConsumer, handler: StreamHandler): void {
    if (this.closed) throw new Error("stream delivery is closed");
    const filter = consumer.filterPatterns?.find(usesContentFilter);
    if (filter) {
      // matchesPattern matches nothing with one, and a skipped record is gone for good.
      throw new Error(
        `stream consumer ${consumer.id}: filter pattern ${JSON.stringify(filter)} uses a content filter (numeric, exists, anything-but, ...), which the local stack does not match yet`,
      );
    }
    const checkpoint = new CheckpointFile(this.checkpointFile(consumer));
    const loop = new ConsumerLoop(consumer, handler, this.log, checkpoint, {
      region: this.region,
      ...this.timing,
    });
    this.loops.add(loop);
    loop.start();
  }

  /** Resolves once every consumer has taken every record so far (tests and shutdown wait on it). */
  async idle(): Promise<void> {
    await Promise.all([...this.loops].map((loop) => loop.idle()));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.loops].map((loop) => loop.stop()));
    this.loops.clear();
  }

  private checkpointFile(consumer: StreamConsumer): string {
    const name = `${consumer.tableName}--${consumer.id}`.replace(/[^\w.-]/g, "_");
    return path.join(this.checkpointDir, `${name}.json`);
  }
}

class ConsumerLoop {
  private readonly pending: StreamRecord[] = [];
  private checkpoint: string;
  /** A checkpoint moved on but not yet written, and the timer that writes it. */
  private unsaved: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private stopping = false;
  private busy = false;
  private running: Promise<void> | undefined;
  private readonly unsubscribe: () => void;
  private idleWaiters: (() => void)[] = [];
  private retryTimer: { timer: NodeJS.Timeout; resolve: () => void } | undefined;

  constructor(
    private readonly consumer: StreamConsumer,
    private readonly handler: StreamHandler,
    log: StreamLog,
    private readonly file: CheckpointFile,
    private readonly options: DeliveryTiming & { region: string },
  ) {
    const saved = file.read();
    this.checkpoint = saved ?? (consumer.startingPosition === "LATEST" ? log.lastSequence : "");
    // The read back is synchronous, so no record can be appended between it and subscribing.
    this.enqueue(log.readAfter(consumer.tableName, this.checkpoint));
    this.unsubscribe = log.onAppend((records) =>
      this.enqueue(records.filter((r) => r.table === consumer.tableName)),
    );
  }

  start(): void {
    this.running = this.run();
  }

  idle(): Promise<void> {
    if (this.pending.length === 0 && !this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.unsubscribe();
    this.wake?.();
    if (this.retryTimer) {
      clearTimeout(this.retryTimer.timer);
      this.retryTimer.resolve();
    }
    await this.running;
    this.save();
    this.file.close();
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private enqueue(records: StreamRecord[]): void {
    if (records.length === 0) return;
    this.pending.push(...records);
    this.wake?.();
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopping) {
      const { batch, ends } = this.nextBatch();
      if (batch.length === 0) {
        this.busy = false;
        for (const resolve of this.idleWaiters.splice(0)) resolve();
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        // Handed over at once, as a mapping without a batching window does: records written
        // while a batch is with its consumer go together in the next one.
        this.wake = undefined;
        continue;
      }
      this.busy = true;
      const failedFrom = await this.invoke(batch);
      if (failedFrom === undefined) {
        this.advance(ends.at(-1) ?? 0);
        attempt = 0;
        continue;
      }
      // Past every record before the first that failed, those the filter left out included.
      const before = failedFrom === 0 ? 0 : (ends[failedFrom - 1] ?? 0);
      this.advance(before);
      attempt++;
      const maximum = this.consumer.maximumRetryAttempts ?? -1;
      if (maximum >= 0 && attempt > maximum) {
        // What a mapping without an on-failure destination does: the records are skipped.
        logger.error("stream consumer gave up on records after its retries", {
          consumer: this.consumer.id,
          skipped: batch.length - failedFrom,
          attempts: attempt,
        });
        this.advance((ends.at(-1) ?? 0) - before);
        attempt = 0;
        continue;
      }
      const delay = Math.min(
        this.options.retryMaxDelayMs,
        this.options.retryBaseDelayMs * 2 ** (attempt - 1),
      );
      await this.pause(delay);
    }
  }

  /** Waits `ms`, or until the consumer is stopped. */
  private async pause(ms: number): Promise<void> {
    if (ms <= 0 || this.stopping) return;
    await new Promise<void>((resolve) => {
      this.retryTimer = { timer: setTimeout(resolve, ms), resolve };
    });
    this.retryTimer = undefined;
  }

  /**
   * The records to deliver next: up to a batch of those past the filter, from the head of the
   * queue, as Lambda drops the records a filter leaves out and batches the rest. `ends[i]` is
   * how many queued records the batch's first i + 1 take up, those left out among them.
   */
  private nextBatch(): { batch: StreamRecord[]; ends: number[] } {
    const size = this.consumer.batchSize ?? 100;
    const cutoff = Date.now() - RETENTION_MS;
    const batch: StreamRecord[] = [];
    const ends: number[] = [];
    let scanned = 0;
    for (const record of this.pending) {
      if (batch.length >= size) break;
      // A batch under way is not held back by a long run of records it would leave out.
      if (batch.length > 0 && scanned - (ends.at(-1) ?? 0) >= MAX_SKIPPED_IN_BATCH) break;
      scanned++;
      if (record.time < cutoff || !this.passes(record)) continue;
      batch.push(record);
      ends.push(scanned);
    }
    // Records left out after the batch's last are passed over now, so none waits on them.
    if (batch.length === 0) this.advance(scanned);
    return { batch, ends };
  }

  private passes(record: StreamRecord): boolean {
    const patterns = this.consumer.filterPatterns;
    if (!patterns?.length) return true;
    const event = toEventRecord(record, this.options.region);
    return patterns.some((pattern) => matchesPattern(pattern, event));
  }

  /** Runs the handler; undefined on success, else the index of the first record to retry. */
  private async invoke(batch: StreamRecord[]): Promise<number | undefined> {
    let result: unknown;
    try {
      result = await this.handler({
        Records: batch.map((record) => toEventRecord(record, this.options.region)),
      });
    } catch {
      return 0;
    }
    if (!this.consumer.reportBatchItemFailures) return undefined;
    const failures = (result as { batchItemFailures?: unknown } | null | undefined)
      ?.batchItemFailures;
    if (failures === undefined || failures === null) return undefined;
    if (!Array.isArray(failures)) return 0;
    if (failures.length === 0) return undefined;
    let first = batch.length;
    for (const failure of failures) {
      const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
      const index = batch.findIndex((r) => r.seq === id);
      // An identifier that names no record of the batch fails it whole, as Lambda does.
      if (index < 0) return 0;
      first = Math.min(first, index);
    }
    return first;
  }

  /** Drops the first `count` records of the queue and moves the checkpoint after them. */
  private advance(count: number): void {
    if (count === 0) return;
    const last = this.pending[count - 1] as StreamRecord;
    this.pending.splice(0, count);
    this.checkpoint = last.seq;
    // Written a moment later, once for the batches of that moment: a crash before then only
    // delivers those records again, which at-least-once delivery allows.
    this.unsaved ??= setTimeout(() => this.save(), CHECKPOINT_DELAY_MS).unref();
  }

  private save(): void {
    if (this.unsaved === undefined) return;
    clearTimeout(this.unsaved);
    this.unsaved = undefined;
    this.file.write(this.checkpoint);
  }
}

/** A content filter matchesPattern does not know: all but a lone `prefix`. */
function usesContentFilter(pattern: unknown): boolean {
  if (Array.isArray(pattern)) {
    return pattern.some(
      (v) =>
        v !== null &&
        typeof v === "object" &&
        !(Object.keys(v).length === 1 && typeof (v as { prefix?: unknown }).prefix === "string"),
    );
  }
  if (pattern && typeof pattern === "object") return Object.values(pattern).some(usesContentFilter);
  return false;
}

/** A stream record as Lambda hands it to a function: the DynamoDBStreamEvent record shape. */
export function toEventRecord(record: StreamRecord, region: string): DynamoDBRecord {
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: "1.1",
    eventSource: "aws:dynamodb",
    awsRegion: region,
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(record.time / 1000),
      Keys: record.keys as never,
      ...(record.newImage ? { NewImage: record.newImage as never } : {}),
      ...(record.oldImage ? { OldImage: record.oldImage as never } : {}),
      SequenceNumber: record.seq,
      SizeBytes: record.sizeBytes,
      StreamViewType: record.viewType,
    },
    eventSourceARN: record.streamArn,
    ...(record.byService
      ? { userIdentity: { type: "Service", principalId: "dynamodb.amazonaws.com" } }
      : {}),
  };
}
