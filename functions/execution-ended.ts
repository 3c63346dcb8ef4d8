import middy from "@middy/core";
import { stackConfig } from "../adapters/config";
import { lockPorts } from "../adapters/deploy-ports";
import { queuePorts } from "../adapters/queue-ports";
import * as z from "../domain/zod";
import { logger } from "../http/logger";
import { releaseRunLocks } from "../usecases/group-locks";
import { executionEnded } from "../usecases/run-queue";

const StatusChangeSchema = z.object({
  detail: z.object({
    name: z.string(),
    status: z.enum(["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]),
    stateMachineArn: z.string(),
    error: z.nullish(z.string()),
    cause: z.nullish(z.string()),
  }),
});

/**
 * EventBridge rule target for "Step Functions Execution Status Change": ends a run its execution
 * left unfinished, passes its app's slot on, and lets go of any deployment group it still held.
 * The rule cannot name the state machine (its ARN is built at deploy time), so executions of
 * others are passed over here.
 */
export const handler = middy(async (event: unknown) => {
  const { detail } = StatusChangeSchema.parse(event);
  if (detail.stateMachineArn !== stackConfig().pipelineArn) return;
  logger.info("pipeline execution ended", { runId: detail.name, status: detail.status });
  const run = await executionEnded(queuePorts(), detail.name, {
    status: detail.status,
    ...(detail.error ? { error: detail.error } : {}),
    ...(detail.cause ? { cause: detail.cause } : {}),
  });
  if (run) await releaseRunLocks(lockPorts(), run);
});
