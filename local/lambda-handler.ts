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
 * The handlers of one warm container: each module is loaded once, and each call gets a fresh
 * context. A handler's failure comes back as a LambdaInvocationError naming its error.
 */
export class HandlerHost {
  private readonly loaded = new Map<string, Promise<Handler>>();

  async call(fn: LocalFunction, arn: string, event: unknown): Promise<unknown> {
    const deadline = Date.now() + fn.timeoutSeconds * 1000;
    const context: Context = {
      callbackWaitsForEmptyEventLoop: false,
      functionName: fn.name,
      functionVersion: "$LATEST",
      invokedFunctionArn: arn,
      memoryLimitInMB: "512",
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${fn.name}`,
      logStreamName: "local",
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    try {
      const handler = await this.load(fn);
      return await handler(event, context);
    } catch (err) {
      if (err instanceof LambdaInvocationError) throw err;
      const e = err instanceof Error ? err : new Error(String(err));
      throw new LambdaInvocationError(e.name, e.message, { cause: e });
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
