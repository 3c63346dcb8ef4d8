import { SHARE_ENV, Worker } from "node:worker_threads";
import { LambdaInvocationError } from "./lambda-handler";
import type { InvokeMessage, ResultMessage } from "./lambda-worker";
import type { LocalFunction } from "./serverless-config";
import { AwaitedReplies, TSX_LOADER } from "./worker-threads";

const WORKER = new URL("./lambda-worker.ts", import.meta.url);
/** How many invocations in flight a cold load is worth, when choosing a container. */
const COLD_LOAD = 2;

interface Container {
  worker: Worker;
  pending: AwaitedReplies;
  /** The handlers this container has loaded: an invocation of one of them starts warm here. */
  warm: Set<string>;
}

/**
 * Warm containers on worker threads, so handlers run in parallel with the stand-ins and each
 * other, as Lambda runs each invocation in an environment of its own. A container is started
 * on first need (the environment is the stack's by then: it is shared, not copied) and takes
 * the invocation when it is the least busy, counting a handler it has not loaded as more work
 * (see leastBusy). Events and results cross as structured clones; a failure keeps its
 * errorType, which Step Functions' Retry and Catch match on.
 */
export class LambdaWorkerPool {
  private readonly containers: Container[] = [];
  private stopped = false;

  constructor(private readonly size: number) {}

  /** How many worker threads are running now. */
  get threads(): number {
    return this.containers.length;
  }

  invoke(fn: LocalFunction, arn: string, event: unknown): Promise<unknown> {
    if (this.stopped) return Promise.reject(new Error("the local Lambda runtime has stopped"));
    const { worker, pending, warm } = this.leastBusy(fn.name);
    warm.add(fn.name);
    return pending.request((id) =>
      worker.postMessage({ id, fn, arn, event } satisfies InvokeMessage),
    );
  }

  /** Ends every worker; invocations still running on one fail. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.containers.map(({ worker }) => worker.terminate()));
    this.containers.length = 0;
  }

  /**
   * The container to run `name` on: an idle one, warm for it if one is; else a new one while
   * there are fewer than the pool's size; else the least busy, where one that has not loaded
   * the handler counts as busier by COLD_LOAD. A container runs several invocations at once
   * (a Lambda environment runs one), and loading a handler with its SDK clients takes 40–90 ms
   * of CPU, several invocations' worth, so a warm container a little busier answers sooner.
   */
  private leastBusy(name: string): Container {
    const load = (c: Container) => c.pending.size + (c.warm.has(name) ? 0 : COLD_LOAD);
    const before = (a: Container, b: Container) =>
      load(a) < load(b) || (load(a) === load(b) && a.pending.size <= b.pending.size);
    const full = this.containers.length >= this.size;
    const candidates = full ? this.containers : this.containers.filter((c) => c.pending.size === 0);
    const best = candidates.reduce<Container | undefined>(
      (a, b) => (a && before(a, b) ? a : b),
      undefined,
    );
    return best ?? this.start();
  }

  private start(): Container {
    const worker = new Worker(WORKER, { env: SHARE_ENV, execArgv: ["--import", TSX_LOADER] });
    // A worker waiting for work does not keep the stack's process alive; a caller waiting on
    // an invocation has its own timeout running.
    worker.unref();
    const container: Container = { worker, pending: new AwaitedReplies(), warm: new Set() };
    worker.on("message", (message: ResultMessage) => {
      container.pending.settle(
        message.id,
        message.ok
          ? { ok: true, value: message.result }
          : {
              ok: false,
              error: new LambdaInvocationError(message.errorType, message.errorMessage),
            },
      );
    });
    const end = (error: LambdaInvocationError) => {
      const at = this.containers.indexOf(container);
      if (at >= 0) this.containers.splice(at, 1);
      container.pending.rejectAll(error);
    };
    worker.on("error", (err) => end(new LambdaInvocationError("Runtime.ExitError", err.message)));
    worker.on("exit", (code) =>
      end(new LambdaInvocationError("Runtime.ExitError", `the runtime exited with code ${code}`)),
    );
    this.containers.push(container);
    return container;
  }
}
