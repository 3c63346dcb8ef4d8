import { availableParallelism } from "node:os";
import { z } from "zod";
import { HandlerHost, LambdaInvocationError } from "./lambda-handler";
import { LambdaWorkerPool } from "./lambda-workers";
import type { LocalFunction } from "./serverless-config";

export interface LambdaRuntimeOptions {
  /**
   * Worker threads to run handlers on (see lambda-workers.ts); 0, the default, runs them in
   * this process, where a test can reach them through in-process hooks such as alsoNotify.
   */
  workers?: number;
  /** Functions that run in this process even when there are workers. */
  inProcess?: ReadonlySet<string>;
}

const WorkersSchema = z.coerce.number().int().min(0).max(64);

/**
 * The worker threads `npm start` and the bench run the pipeline's functions on:
 * SLUICE_LAMBDA_WORKERS, or one per core (0 runs them in the stack's own process).
 */
export function lambdaWorkersFromEnv(env: NodeJS.ProcessEnv): number {
  const value = env.SLUICE_LAMBDA_WORKERS;
  if (value === undefined || value.trim() === "") return availableParallelism();
  const parsed = WorkersSchema.safeParse(value.trim());
  if (!parsed.success)
    throw new Error(`SLUICE_LAMBDA_WORKERS must be a whole number from 0 to 64, not "${value}"`);
  return parsed.data;
}

/**
 * Runs the functions of serverless.yml the way Lambda would: each module is loaded once (a warm
 * container), each call gets a fresh context and fails after the configured timeout.
 */
export class LambdaRuntime {
  private readonly inProcess = new HandlerHost();
  private readonly pool: LambdaWorkerPool | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly keptInProcess: ReadonlySet<string>;

  constructor(
    private readonly functions: ReadonlyMap<string, LocalFunction>,
    private readonly region: string,
    private readonly accountId: string,
    options: LambdaRuntimeOptions = {},
  ) {
    if (options.workers) this.pool = new LambdaWorkerPool(options.workers);
    this.keptInProcess = options.inProcess ?? new Set();
  }

  has(name: string): boolean {
    return this.functions.has(name);
  }

  arnOf(name: string): string {
    return `arn:aws:lambda:${this.region}:${this.accountId}:function:${name}`;
  }

  /** How many worker threads run handlers now (0 when they run in this process). */
  get threads(): number {
    return this.pool?.threads ?? 0;
  }

  invoke(name: string, event: unknown): Promise<unknown> {
    const invocation = this.run(name, event);
    this.inFlight.add(invocation);
    const forget = () => this.inFlight.delete(invocation);
    invocation.then(forget, forget);
    return invocation;
  }

  /** Resolves once no invocation is running, including any started while waiting. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Ends the worker threads, once drained; in-process handlers need nothing. */
  async stop(): Promise<void> {
    await this.pool?.stop();
  }

  private async run(name: string, event: unknown): Promise<unknown> {
    const fn = this.functions.get(name);
    if (!fn) throw new Error(`no function ${name} in serverless.yml`);
    const arn = this.arnOf(fn.name);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new LambdaInvocationError(
              "Sandbox.Timedout",
              `Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`,
            ),
          ),
        fn.timeoutSeconds * 1000,
      );
    });
    const call =
      this.pool && !this.keptInProcess.has(name)
        ? this.pool.invoke(fn, arn, event)
        : this.inProcess.call(fn, arn, event);
    try {
      return await Promise.race([call, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
