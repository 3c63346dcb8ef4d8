import { parentPort, workerData } from "node:worker_threads";
import type { DynamoDBStreamEvent } from "aws-lambda";
import { AwaitedReplies } from "../worker-threads";
import { type LocalDynamoDb, startLocalDynamoDb } from "./index";
import type { CallMessage, FromThread, ThreadOptions, ToThread } from "./thread";

/** The local DynamoDB's own thread (see thread.ts): the store, and the stack's calls on it. */
const port = parentPort;
if (!port) throw new Error("thread-worker.ts runs as a worker thread of the local stack");
const send = (message: FromThread) => port.postMessage(message);

const deliveries = new AwaitedReplies();

/** Hands a batch to the stack, which hands it to the consumer's function, and waits. */
function delivered(consumer: string, event: DynamoDBStreamEvent): Promise<unknown> {
  return deliveries.request((id) => send({ kind: "deliver", id, consumer, event }));
}

async function answer(db: LocalDynamoDb, message: CallMessage): Promise<unknown> {
  switch (message.call) {
    case "idle":
      return db.streams.idle();
    case "closeStreams":
      return db.streams.close();
    case "sweepExpired":
      return db.sweepExpired(message.now);
    case "close":
      return db.close();
  }
}

let db: LocalDynamoDb | undefined;
// Listening first keeps the thread up after a failed start, so its "failed" is read before
// the stack ends it.
port.on("message", (message: ToThread) => {
  if (!db) return;
  const store = db;
  switch (message.kind) {
    case "subscribe":
      store.streams.subscribe(message.consumer, (event) => delivered(message.consumer.id, event));
      return;
    case "delivered":
      deliveries.settle(
        message.id,
        message.ok
          ? { ok: true, value: message.result }
          : { ok: false, error: new Error(message.message) },
      );
      return;
    case "call":
      answer(store, message).then(
        (result) => send({ kind: "done", id: message.id, ok: true, result }),
        (err: unknown) => send({ kind: "done", id: message.id, ok: false, message: String(err) }),
      );
  }
});
try {
  db = await startLocalDynamoDb(workerData as ThreadOptions);
  send({ kind: "started", endpoint: db.endpoint });
} catch (err) {
  const { message, code } = err as NodeJS.ErrnoException;
  send({ kind: "failed", message, ...(code ? { code } : {}) });
}
