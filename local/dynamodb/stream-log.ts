import { randomUUID } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, writeSync } from "node:fs";
import { completeLines, writeFileAtomic } from "./files";
import type { Item } from "./items";
import type { StreamViewType } from "./tables";

export type StreamEventName = "INSERT" | "MODIFY" | "REMOVE";

/** A change to one item as a table's stream holds it. */
export interface StreamRecord {
  /** Increasing across every table and restart; 21 digits, so text order is number order. */
  seq: string;
  table: string;
  streamArn: string;
  eventID: string;
  eventName: StreamEventName;
  /** Epoch milliseconds. */
  time: number;
  viewType: StreamViewType;
  keys: Item;
  newImage?: Item;
  oldImage?: Item;
  sizeBytes: number;
  /** Set when DynamoDB itself made the change (a time-to-live expiry). */
  byService?: true;
  /** The undo-journal entry of the write that made it: its presence means that write committed. */
  write?: string;
}

export type NewStreamRecord = Omit<StreamRecord, "seq" | "eventID" | "write">;

const RETENTION_MS = 24 * 60 * 60 * 1000;

export function sequenceNumber(n: number): string {
  return String(n).padStart(21, "0");
}

/**
 * Every table's stream records, in one append-only file under the DynamoDB state folder, so a
 * write's records across tables land in one write(2) together. Records older than DynamoDB
 * Streams' 24 hours are dropped when the log is opened.
 */
export class StreamLog {
  private readonly listeners = new Set<(records: StreamRecord[]) => void>();

  private constructor(
    private readonly file: string,
    private readonly fd: number,
    private last: number,
    private readonly committedAtOpen: Set<string>,
  ) {}

  static open(file: string, now = Date.now()): StreamLog {
    const text = existsSync(file) ? readFileSync(file, "utf8") : "";
    const records = StreamLog.parse(text);
    const torn = text.length > 0 && !text.endsWith("\n");
    const kept = records.filter((r) => r.time > now - RETENTION_MS);
    // The last record stays, whatever its age: sequence numbers continue from it.
    const lastRecord = records.at(-1);
    if (lastRecord && kept.at(-1) !== lastRecord) kept.push(lastRecord);
    if (kept.length !== records.length || torn) {
      writeFileAtomic(file, kept.map((r) => `${JSON.stringify(r)}\n`).join(""));
    }
    const writes = new Set(kept.flatMap((r) => (r.write ? [r.write] : [])));
    return new StreamLog(file, openSync(file, "a"), Number(lastRecord?.seq ?? 0), writes);
  }

  get lastSequence(): string {
    return sequenceNumber(this.last);
  }

  /**
   * Whether the write of that undo-journal entry, unfinished when the log was opened, left
   * records: then it got as far as committing.
   */
  hasRecordsOf(write: string): boolean {
    return this.committedAtOpen.has(write);
  }

  append(records: NewStreamRecord[], write?: string): StreamRecord[] {
    if (records.length === 0) return [];
    const stored = records.map((r) => ({
      ...r,
      seq: sequenceNumber(++this.last),
      eventID: randomUUID().replaceAll("-", ""),
      ...(write ? { write } : {}),
    }));
    writeSync(this.fd, Buffer.from(stored.map((r) => `${JSON.stringify(r)}\n`).join("")));
    for (const listener of this.listeners) listener(stored);
    return stored;
  }

  /** The table's records after a sequence number, read back from the file. */
  readAfter(table: string, seq: string): StreamRecord[] {
    return StreamLog.parse(readFileSync(this.file, "utf8")).filter(
      (r) => r.table === table && r.seq > seq,
    );
  }

  /** Up to `limit` records of one stream after a sequence number, read back from the file. */
  readStreamAfter(streamArn: string, seq: string, limit: number): StreamRecord[] {
    const found: StreamRecord[] = [];
    for (const record of StreamLog.parse(readFileSync(this.file, "utf8"))) {
      if (record.streamArn !== streamArn || record.seq <= seq) continue;
      found.push(record);
      if (found.length >= limit) break;
    }
    return found;
  }

  onAppend(listener: (records: StreamRecord[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    closeSync(this.fd);
  }

  private static parse(text: string): StreamRecord[] {
    return completeLines(text).map((line) => JSON.parse(line) as StreamRecord);
  }
}
