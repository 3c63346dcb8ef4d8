import { parentPort } from "node:worker_threads";
import { HandlerHost, LambdaInvocationError } from "./lambda-handler";
import type { LocalFunction } from "./serverless-config";

/** What the pool sends a worker: one invocation. */
export interface InvokeMessage {
  id: number;
  fn: LocalFunction;
  arn: string;
  event: unknown;
}

/** What a worker answers: the handler's result, or its failure as Lambda reports one. */
export type ResultMessage =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; errorType: string; errorMessage: string };

/**
 * One warm container of the local Lambda runtime (see lambda-workers.ts): it loads each handler
 * once and runs as many invocations at once as it is sent, like the in-process runtime does.
 */
const port = parentPort;
if (!port) throw new Error("lambda-worker.ts runs as a worker thread of the local stack");
const host = new HandlerHost();
port.on("message", (message: InvokeMessage) => {
  host.call(message.fn, message.arn, message.event).then(
    (result) => port.postMessage({ id: message.id, ok: true, result } satisfies ResultMessage),
    (err: unknown) => {
      const e =
        err instanceof LambdaInvocationError
          ? err
          : new LambdaInvocationError("Error", String(err));
      port.postMessage({
        id: message.id,
        ok: false,
        errorType: e.errorType,
        errorMessage: e.errorMessage,
      } satisfies ResultMessage);
    },
  );
});
