import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";
import type { Context } from "aws-lambda";
import type { LocalFunction } from "./serverless-config";

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** A function's failure as Lambda reports it to its caller: errorType and errorMessage. */
export class LambdaInvocationError extends Error {
  constructor(
    readonly errorType: string,
    readonly errorMessage: string,
    options?: ErrorOptions,
  ) {
    super(JSON.stringify({ errorType, errorMessage }), options);
    // Step Functions matches Retry/Catch on the error's name, as it does on errorType in AWS.
    this.name = errorType;
  }
}

/**
 * Runs the functions of serverless.yml in this process, the way Lambda would: the module is
 * loaded once (a warm container), each call gets a fresh context with the configured timeout.
 */
export class LambdaRuntime {
  private readonly loaded = new Map<string, Promise<Handler>>();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly functions: ReadonlyMap<string, LocalFunction>,
    private readonly region: string,
    private readonly accountId: string,
  ) {}

  has(name: string): boolean {
    return this.functions.has(name);
  }

  arnOf(name: string): string {
    return `arn:aws:lambda:${this.region}:${this.accountId}:function:${name}`;
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

  private async run(name: string, event: unknown): Promise<unknown> {
    const fn = this.functions.get(name);
    if (!fn) throw new Error(`no function ${name} in serverless.yml`);
    const handler = await this.load(fn);
    const deadline = Date.now() + fn.timeoutSeconds * 1000;
    const context: Context = {
      callbackWaitsForEmptyEventLoop: false,
      functionName: fn.name,
      functionVersion: "$LATEST",
      invokedFunctionArn: this.arnOf(fn.name),
      memoryLimitInMB: "512",
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${fn.name}`,
      logStreamName: "local",
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
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
    try {
      return await Promise.race([handler(event, context), timeout]);
    } catch (err) {
      if (err instanceof LambdaInvocationError) throw err;
      const e = err instanceof Error ? err : new Error(String(err));
      throw new LambdaInvocationError(e.name, e.message, { cause: e });
    } finally {
      clearTimeout(timer);
    }
  }

  private load(fn: LocalFunction): Promise<Handler> {
    let handler = this.loaded.get(fn.name);
    if (!handler) {
      handler = import(pathToFileURL(fn.modulePath).href).then((mod: Record<string, unknown>) => {
        const exported = mod[fn.exportName];
        if (typeof exported !== "function") {
          throw new Error(`${fn.modulePath} does not export a function named ${fn.exportName}`);
        }
        return exported as Handler;
      });
      this.loaded.set(fn.name, handler);
    }
    return handler;
  }
}
