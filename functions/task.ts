import middy from "@middy/core";
import { isTransientAwsError, SluiceError } from "../domain/errors";
import { logger } from "../http/logger";

/** A failure as the state machine sees it: its name is what Retry and Catch match on. */
export class TaskError extends Error {
  constructor(name: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = name;
  }
}

/**
 * Wraps a pipeline task: every failure leaves with an error name of Sluice's taxonomy
 * (`Sluice.Transient`, `Sluice.Conflict`, ...), so the ASL retries the transient ones with
 * backoff and lets the final ones end the run. An AWS call that was throttled, timed out or met
 * a 5xx is transient; anything not understood is final, and logged.
 */
export function taskHandler<I, O>(task: (input: I) => Promise<O>) {
  return middy(async (input: I) => {
    try {
      return await task(input);
    } catch (err) {
      if (err instanceof SluiceError) {
        throw new TaskError(`Sluice.${err.kind}`, err.message, { cause: err });
      }
      if (isTransientAwsError(err)) {
        logger.warn("pipeline task met a transient failure", { error: err });
        throw new TaskError("Sluice.Transient", (err as Error).message, { cause: err });
      }
      logger.error("pipeline task failed", { error: err });
      throw err;
    }
  });
}
