type Callback = (err: unknown, value?: unknown) => void;
/** A callback, or the options level passes when it repeats a call deferred until it opened. */
type Last = Callback | Record<string, unknown>;

/** dynalite's LevelDB as its item, index and table dbs call it: callbacks, or promises without. */
export interface LevelCalls {
  get(key: string, cb?: Last): unknown;
  put(key: string, value: unknown, cb?: Last): unknown;
  del(key: string, cb?: Last): unknown;
  batch(operations: BatchOperation[], cb?: Last): unknown;
}

interface BatchOperation {
  type: "put" | "del";
  key: string;
  value?: unknown;
}

/** What a cached key holds: the JSON LevelDB holds, or nothing (the key is absent). */
const ABSENT = Symbol("absent");

/**
 * Keeps what LevelDB holds for the keys read or written lately, as the JSON it stores, so a
 * read of one of them (the front reads every item it writes, and dynalite reads it again) is
 * answered without a LevelDB round trip. Every write goes to LevelDB as before and to the copy
 * as it is made, so a read never sees older data than LevelDB would; iterators (Query, Scan)
 * still read LevelDB. A read that was under way when its key was written is not kept.
 */
export function cacheReads(db: LevelCalls, maxChars = 32 * 1024 * 1024): void {
  const kept = new Map<string, string | typeof ABSENT>();
  let chars = 0;
  const reading = new Map<string, number>();
  const writtenWhileRead = new Set<string>();

  const forget = (key: string) => {
    const old = kept.get(key);
    if (old === undefined) return;
    kept.delete(key);
    chars -= typeof old === "string" ? old.length : 0;
  };
  const keep = (key: string, json: string | typeof ABSENT) => {
    forget(key);
    kept.set(key, json);
    chars += typeof json === "string" ? json.length : 0;
    for (const oldest of kept.keys()) {
      if (chars <= maxChars) break;
      forget(oldest);
    }
  };
  const written = (key: string, value: unknown) => {
    if (reading.has(key)) writtenWhileRead.add(key);
    keep(key, value === undefined ? ABSENT : JSON.stringify(value));
  };
  /** A failed write leaves LevelDB's value unknown here: the next read goes to LevelDB. */
  const settled = (keys: string[], cb: Callback | undefined) => (err: unknown, value?: unknown) => {
    if (err) for (const key of keys) forget(key);
    cb?.(err, value);
  };
  const failed = (keys: string[]) => (err: unknown) => {
    for (const key of keys) forget(key);
    throw err;
  };

  const { get, put, del, batch } = {
    get: db.get.bind(db),
    put: db.put.bind(db),
    del: db.del.bind(db),
    batch: db.batch.bind(db),
  };
  db.get = (key, cb) => {
    if (cb !== undefined && typeof cb !== "function") return get(key, cb);
    const json = kept.get(key);
    if (json !== undefined) {
      // Used lately: to the back of the line of keys to let go.
      kept.delete(key);
      kept.set(key, json);
      const value = json === ABSENT ? undefined : JSON.parse(json);
      if (!cb) return Promise.resolve(value);
      setImmediate(cb, null, value);
      return;
    }
    reading.set(key, (reading.get(key) ?? 0) + 1);
    const done = (err: unknown, value?: unknown) => {
      const left = (reading.get(key) ?? 1) - 1;
      if (left > 0) reading.set(key, left);
      else reading.delete(key);
      if (!err && !writtenWhileRead.has(key))
        keep(key, value === undefined ? ABSENT : JSON.stringify(value));
      if (left === 0) writtenWhileRead.delete(key);
    };
    if (!cb) {
      return (get(key) as Promise<unknown>).then(
        (value) => {
          done(null, value);
          return value;
        },
        (err: unknown) => {
          done(err);
          throw err;
        },
      );
    }
    get(key, (err, value) => {
      done(err, value);
      cb(err, value);
    });
  };
  // A call with options is level's own, repeating one made here once the db has opened.
  db.put = (key, value, cb) => {
    if (cb !== undefined && typeof cb !== "function") return put(key, value, cb);
    written(key, value);
    if (!cb) return (put(key, value) as Promise<unknown>).catch(failed([key]));
    put(key, value, settled([key], cb));
  };
  db.del = (key, cb) => {
    if (cb !== undefined && typeof cb !== "function") return del(key, cb);
    written(key, undefined);
    if (!cb) return (del(key) as Promise<unknown>).catch(failed([key]));
    del(key, settled([key], cb));
  };
  db.batch = (operations, cb) => {
    if (cb !== undefined && typeof cb !== "function") return batch(operations, cb);
    for (const op of operations) written(op.key, op.type === "put" ? op.value : undefined);
    const keys = operations.map((op) => op.key);
    if (!cb) return (batch(operations) as Promise<unknown>).catch(failed(keys));
    batch(operations, settled(keys, cb));
  };
}
