import middy from "@middy/core";
import { z } from "zod";
import { adapters } from "../adapters/clients";
import { systemClock } from "../domain/ports";
import { logger } from "../http/logger";
import { executionEnded } from "../usecases/run-queue";

const StatusChangeSchema = z.object({
  detail: z.object({
    name: z.string(),
    status: z.enum(["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]),
    stateMachineArn: z.string(),
    error: z.string().nullish(),
    cause: z.string().nullish(),
  }),
});

/**
 * EventBridge rule target for "Step Functions Execution Status Change": ends a run its execution
 * left unfinished, and passes its app's slot on. The rule cannot name the state machine (its ARN
 * is built at deploy time), so executions of others are passed over here.
 */
export const handler = middy(async (event: unknown) => {
  const { detail } = StatusChangeSchema.parse(event);
  const a = adapters();
  if (detail.stateMachineArn !== a.config.pipelineArn) return;
  logger.info("pipeline execution ended", { runId: detail.name, status: detail.status });
  await executionEnded({ ...a, clock: systemClock }, detail.name, {
    status: detail.status,
    ...(detail.error ? { error: detail.error } : {}),
    ...(detail.cause ? { cause: detail.cause } : {}),
  });
});
