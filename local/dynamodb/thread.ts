import { Worker } from "node:worker_threads";
import type { DynamoDBStreamEvent } from "aws-lambda";
import { AwaitedReplies, TSX_LOADER } from "../worker-threads";
import type { LocalDynamoDb, LocalDynamoDbOptions } from "./index";
import type { StreamConsumer, StreamHandler } from "./stream-delivery";

/** What a thread can be started with: plain data, as it crosses to the thread as a clone. */
export type ThreadOptions = Omit<LocalDynamoDbOptions, "fault" | "transactionHooks">;

/** A call on the running store, answered by a DoneMessage of the same id. */
export type CallMessage =
  | { kind: "call"; id: number; call: "idle" | "closeStreams" | "close" }
  | { kind: "call"; id: number; call: "sweepExpired"; now?: number };

/** What the stack sends the thread. */
export type ToThread =
  | CallMessage
  | { kind: "subscribe"; consumer: StreamConsumer }
  | { kind: "delivered"; id: number; ok: true; result: unknown }
  | { kind: "delivered"; id: number; ok: false; message: string };

/** What the thread sends the stack. */
export type FromThread =
  | { kind: "started"; endpoint: string }
  | { kind: "failed"; message: string; code?: string }
  | { kind: "done"; id: number; ok: true; result?: unknown }
  | { kind: "done"; id: number; ok: false; message: string }
  | { kind: "deliver"; id: number; consumer: string; event: DynamoDBStreamEvent };

const WORKER = new URL("./thread-worker.ts", import.meta.url);

/**
 * The local DynamoDB on a worker thread of its own: the same store, front and streams as
 * startLocalDynamoDb, so its store, dynalite and HTTP work run beside the other stand-ins
 * rather than between their calls. A stream batch crosses back to be handed to its consumer
 * here, and the consumer's answer crosses to the thread. Injected faults and transaction hooks
 * are functions of the test that sets them, so they need the in-process store.
 */
export async function startLocalDynamoDbThread(options: ThreadOptions): Promise<LocalDynamoDb> {
  const worker = new Worker(WORKER, { workerData: options, execArgv: ["--import", TSX_LOADER] });
  const handlers = new Map<string, StreamHandler>();
  const replies = new AwaitedReplies();
  let ended: Error | undefined;

  const send = (message: ToThread) => worker.postMessage(message);
  const call = (message: Omit<CallMessage, "id">): Promise<unknown> => {
    if (ended) return Promise.reject(ended);
    // Held open only while a call is waiting on it: an idle store never keeps the process up.
    if (replies.size === 0) worker.ref();
    return replies.request((id) => send({ ...message, id } as CallMessage));
  };
  const settle = (id: number, reply: Parameters<AwaitedReplies["settle"]>[1]) => {
    if (replies.settle(id, reply) && replies.size === 0) worker.unref();
  };
  const deliver = (id: number, consumer: string, event: DynamoDBStreamEvent) => {
    const handler = handlers.get(consumer);
    const answer = handler
      ? handler(event)
      : Promise.reject(new Error(`no handler for stream consumer ${consumer}`));
    answer.then(
      (result) => send({ kind: "delivered", id, ok: true, result }),
      (err: unknown) => send({ kind: "delivered", id, ok: false, message: String(err) }),
    );
  };

  const endpoint = await new Promise<string>((resolve, reject) => {
    worker.on("message", (message: FromThread) => {
      switch (message.kind) {
        case "started":
          return resolve(message.endpoint);
        case "failed":
          return reject(Object.assign(new Error(message.message), { code: message.code }));
        case "done":
          return settle(
            message.id,
            message.ok
              ? { ok: true, value: message.result }
              : { ok: false, error: new Error(message.message) },
          );
        case "deliver":
          return deliver(message.id, message.consumer, message.event);
      }
    });
    const end = (error: Error) => {
      ended = error;
      reject(error);
      replies.rejectAll(error);
    };
    worker.on("error", (err) => end(err));
    worker.on("exit", (code) =>
      end(new Error(`the local DynamoDB thread exited with code ${code}`)),
    );
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });
  worker.unref();

  return {
    endpoint,
    streams: {
      subscribe(consumer, handler) {
        handlers.set(consumer.id, handler);
        send({ kind: "subscribe", consumer });
      },
      idle: async () => {
        await call({ kind: "call", call: "idle" });
      },
      close: async () => {
        await call({ kind: "call", call: "closeStreams" });
      },
    },
    sweepExpired: async (now) =>
      (await call({
        kind: "call",
        call: "sweepExpired",
        ...(now === undefined ? {} : { now }),
      })) as number,
    close: async () => {
      if (ended) return;
      await call({ kind: "call", call: "close" });
      ended = new Error("the local DynamoDB has closed");
      await worker.terminate();
    },
  };
}
