import { closeSync, existsSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { createRequire } from "node:module";

type Callback = (err: unknown, value?: unknown) => void;
/** A callback, or the options level passes when it repeats a call deferred until it opened. */
type Last = Callback | Record<string, unknown>;

/** dynalite's level db as its item, index and table dbs write to it: callbacks, or promises. */
export interface LevelWrites {
  put(key: string, value: unknown, cb?: Last): unknown;
  del(key: string, cb?: Last): unknown;
  batch(operations: BatchOperation[], cb?: Last): unknown;
}

export interface BatchOperation {
  type: "put" | "del";
  key: string;
  value?: unknown;
}

/** One line of the log: the writes of one call, each [key, value] or [key] for a delete. */
type Line = ([string, unknown] | [string])[];

/**
 * The durable half of the local DynamoDB's storage: dynalite keeps its data in memory-level,
 * and every write it makes is appended here, synchronously and before memory-level has it, as
 * one line per call (a batch is one line, so it comes back whole or not at all). At start the
 * log is read back into memory and rewritten with only what is live. LevelDB, which dynalite
 * otherwise writes to, cost more CPU a call than the rest of the front together: every read and
 * write went through the native binding and the thread pool.
 */
export class LevelLog {
  private constructor(
    private readonly file: string,
    private fd: number,
  ) {}

  /**
   * Opens the log at `file`, answering what it holds. Without one, the LevelDB an earlier
   * version kept in `leveldbDir` (if any) is read instead, so a state folder keeps its data.
   */
  static async open(
    file: string,
    leveldbDir: string,
  ): Promise<{ log: LevelLog; entries: Map<string, unknown> }> {
    const entries = existsSync(file) ? readLog(file) : await readLevelDb(leveldbDir);
    const tmp = `${file}.tmp`;
    const fd = openSync(tmp, "w");
    try {
      const live = [...entries];
      // In lines of a few hundred, so no line is too long to read back.
      for (let i = 0; i < live.length; i += 500) {
        writeSync(fd, `${JSON.stringify(live.slice(i, i + 500))}\n`);
      }
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    return { log: new LevelLog(file, openSync(file, "a")), entries };
  }

  /** Has every write to `db` appended here before `db` gets it. */
  logWritesTo(db: LevelWrites): void {
    const { put, del, batch } = {
      put: db.put.bind(db),
      del: db.del.bind(db),
      batch: db.batch.bind(db),
    };
    // A call with options is level's own, repeating one made here once the db has opened.
    db.put = (key, value, cb) => {
      if (cb === undefined || typeof cb === "function") this.append([[key, value]]);
      return put(key, value, cb);
    };
    db.del = (key, cb) => {
      if (cb === undefined || typeof cb === "function") this.append([[key]]);
      return del(key, cb);
    };
    db.batch = (operations, cb) => {
      if (cb === undefined || typeof cb === "function") {
        this.append(operations.map((op) => (op.type === "put" ? [op.key, op.value] : [op.key])));
      }
      return batch(operations, cb);
    };
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }

  private append(line: Line): void {
    if (this.fd < 0) throw new Error(`the local DynamoDB's log ${this.file} is closed`);
    writeSync(this.fd, `${JSON.stringify(line)}\n`);
  }
}

/** The live entries of a log; a torn last line (the process died mid-write) is left out. */
function readLog(file: string): Map<string, unknown> {
  const lines = readFileSync(file, "utf8").split("\n");
  const entries = new Map<string, unknown>();
  for (const [i, text] of lines.entries()) {
    if (text === "") continue;
    let line: Line;
    try {
      line = JSON.parse(text) as Line;
    } catch (err) {
      if (i === lines.length - 1) break;
      throw new Error(`${file}: line ${i + 1} is not JSON`, { cause: err });
    }
    for (const write of line) {
      if (write.length === 2) entries.set(write[0], write[1]);
      else entries.delete(write[0]);
    }
  }
  return entries;
}

interface LevelDbReader {
  iterator(): AsyncIterable<[string, unknown]>;
  open(): Promise<void>;
  close(): Promise<void>;
}

/** What a LevelDB of an earlier version holds; nothing when there is none. */
async function readLevelDb(dir: string): Promise<Map<string, unknown>> {
  const entries = new Map<string, unknown>();
  if (!existsSync(`${dir}/CURRENT`)) return entries;
  // dynalite's own LevelDB binding, the one that wrote it.
  const fromDynalite = createRequire(createRequire(import.meta.url).resolve("dynalite/db"));
  const { Level } = fromDynalite("level") as {
    Level: new (dir: string, options: { valueEncoding: "json" }) => LevelDbReader;
  };
  const db = new Level(dir, { valueEncoding: "json" });
  await db.open();
  try {
    for await (const [key, value] of db.iterator()) entries.set(key, value);
  } finally {
    await db.close();
  }
  return entries;
}
