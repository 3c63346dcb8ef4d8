import { randomUUID } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, writeSync } from "node:fs";
import { completeLines, writeFileAtomic } from "../files";
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

const SEQ_PREFIX = '{"seq":"';

function seqOf(line: string): string {
  return line.startsWith(SEQ_PREFIX)
    ? line.slice(SEQ_PREFIX.length, SEQ_PREFIX.length + 21)
    : (JSON.parse(line) as StreamRecord).seq;
}

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

  /**
   * Opens the log; `unfinished` are the undo-journal entries a crash left open, of which the
   * log tells which committed. Only the first and last records are parsed unless the first is
   * past its 24 hours, so a start reads a long log quickly.
   */
  static open(file: string, unfinished: readonly string[] = [], now = Date.now()): StreamLog {
    const text = existsSync(file) ? readFileSync(file, "utf8") : "";
    const all = completeLines(text);
    let lines = all;
    const torn = text.length > 0 && !text.endsWith("\n");
    const first = all[0] ? (JSON.parse(all[0]) as StreamRecord) : undefined;
    const last = all.at(-1);
    if (first && first.time <= now - RETENTION_MS) {
      lines = all.filter((line) => (JSON.parse(line) as StreamRecord).time > now - RETENTION_MS);
      // The last record stays, whatever its age: sequence numbers continue from it.
      if (last && lines.at(-1) !== last) lines.push(last);
    }
    if (torn || lines.length !== all.length) {
      writeFileAtomic(file, lines.map((line) => `${line}\n`).join(""));
    }
    const committed = new Set(unfinished.filter((id) => text.includes(`"write":"${id}"`)));
    return new StreamLog(file, openSync(file, "a"), Number(last ? seqOf(last) : 0), committed);
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
    // The sequence number first: the log is searched by it without parsing each line.
    const stored = records.map((r) => ({
      seq: sequenceNumber(++this.last),
      ...r,
      eventID: randomUUID().replaceAll("-", ""),
      ...(write ? { write } : {}),
    }));
    writeSync(this.fd, Buffer.from(stored.map((r) => `${JSON.stringify(r)}\n`).join("")));
    for (const listener of this.listeners) listener(stored);
    return stored;
  }

  /** The table's records after a sequence number, read back from the file. */
  readAfter(table: string, seq: string): StreamRecord[] {
    return this.linesAfter(seq)
      .map((line) => JSON.parse(line) as StreamRecord)
      .filter((r) => r.table === table);
  }

  /** Up to `limit` records of one stream after a sequence number, read back from the file. */
  readStreamAfter(streamArn: string, seq: string, limit: number): StreamRecord[] {
    const found: StreamRecord[] = [];
    for (const line of this.linesAfter(seq)) {
      const record = JSON.parse(line) as StreamRecord;
      if (record.streamArn !== streamArn) continue;
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

  /** The lines after a sequence number: lines are in sequence order, so a binary search finds them. */
  private linesAfter(seq: string): string[] {
    const lines = completeLines(readFileSync(this.file, "utf8"));
    let low = 0;
    let high = lines.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (seqOf(lines[middle] as string) <= seq) low = middle + 1;
      else high = middle;
    }
    return lines.slice(low);
  }
}
