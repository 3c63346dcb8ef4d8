import { parentPort } from "node:worker_threads";
import { HandlerHost, LambdaInvocationError } from "./lambda-handler";
import type { LocalFunction } from "./serverless-config";
import { niceThisThread } from "./thread-priority";

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
/**
 * In AWS the intake's functions never wait for CPU behind the pipeline's: each invocation has
 * an environment of its own. On one machine they share its cores, so the pipeline's functions
 * yield: a webhook is answered while runs in flight go on with the CPU the stand-ins and the
 * API leave. Their calls to the stand-ins are served at the stand-ins' own priority.
 */
const PIPELINE_NICE = 10;
niceThisThread(PIPELINE_NICE);
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
