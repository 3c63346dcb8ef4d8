import { closeSync, existsSync, ftruncateSync, readFileSync, writeSync } from "node:fs";
import { completeLines, openForAppend } from "../files";
import type { Item } from "./items";

/** An item as it was before a write began: what undoing the write puts back. */
export interface UndoImage {
  table: string;
  key: Item;
  /** Absent when the item did not exist. */
  old?: Item;
}

export interface UnfinishedWrite {
  id: string;
  images: UndoImage[];
}

type Line = { id: string; begin: UndoImage[] } | { id: string; end: true };

const TRUNCATE_AT_BYTES = 1024 * 1024;

/**
 * The old images of every write in progress, appended before the write is applied and marked
 * done after it. A write the process did not finish (SIGKILL half-way through a transaction)
 * is still open here at the next start, and is undone from these images. Lines are written with
 * one write(2) each to an O_APPEND file: they survive the process being killed, not the machine
 * losing power, the same promise the store's own log (level-log.ts) makes.
 */
export class UndoJournal {
  // Ids stay unique across restarts: a stream record names the write that made it.
  private readonly session = Date.now().toString(36);
  private counter = 0;
  private readonly open = new Set<string>();
  private bytes = 0;

  private constructor(
    private readonly fd: number,
    readonly unfinished: UnfinishedWrite[],
  ) {}

  static open(file: string): UndoJournal {
    const begun = new Map<string, UndoImage[]>();
    if (existsSync(file)) {
      for (const text of completeLines(readFileSync(file, "utf8"))) {
        const line = JSON.parse(text) as Line;
        if ("begin" in line) begun.set(line.id, line.begin);
        else begun.delete(line.id);
      }
    }
    const unfinished = [...begun].map(([id, images]) => ({ id, images }));
    return new UndoJournal(openForAppend(file), unfinished);
  }

  /** Once the unfinished writes are settled, the file starts afresh. */
  settled(): void {
    this.unfinished.length = 0;
    ftruncateSync(this.fd, 0);
  }

  begin(images: UndoImage[]): string {
    const id = `${this.session}.${++this.counter}`;
    this.append({ id, begin: images });
    this.open.add(id);
    return id;
  }

  end(id: string): void {
    this.append({ id, end: true });
    this.open.delete(id);
    if (this.open.size === 0 && this.bytes > TRUNCATE_AT_BYTES) {
      ftruncateSync(this.fd, 0);
      this.bytes = 0;
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  private append(line: Line): void {
    const buffer = Buffer.from(`${JSON.stringify(line)}\n`);
    writeSync(this.fd, buffer);
    this.bytes += buffer.length;
  }
}
