import middy from "@middy/core";
import { z } from "zod";
import { adapters } from "../adapters/clients";
import { systemClock } from "../domain/ports";
import { logger } from "../http/logger";
import { executionEnded } from "../usecases/run-queue";

const StatusChangeSchema = z.object({
  detail: z.object({
    name: z.string(),
    status: z.string(),
    stateMachineArn: z.string(),
  }),
});

/**
 * EventBridge rule target for "Step Functions Execution Status Change" (failed, timed out,
 * aborted): ends a pipeline run its execution left unfinished. The rule cannot name the state
 * machine (its ARN is built at deploy time), so executions of others are passed over here.
 */
export const handler = middy(async (event: unknown) => {
  const { detail } = StatusChangeSchema.parse(event);
  const a = adapters();
  if (detail.stateMachineArn !== a.config.pipelineArn) return;
  logger.info("pipeline execution ended", { runId: detail.name, status: detail.status });
  await executionEnded({ ...a, clock: systemClock }, detail.name, detail.status);
});
