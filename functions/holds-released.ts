import middy from "@middy/core";
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { holdWatches } from "../adapters/holds";
import { pipelineExecutions } from "../adapters/pipeline-executions";
import { logger } from "../http/logger";
import { releaseHolds } from "../usecases/holds";

/**
 * The table's stream consumer for freezes and group locks that changed: a freeze lifted or
 * replaced, a group let go that a wave waited for (its filter in serverless.yml). The waves
 * they held look again at once (their Hold resumes into CheckWave). A batch that failed is
 * delivered again; resuming twice is harmless.
 */
export const handler = middy(async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  const holds = new Set<string>();
  for (const record of event.Records) {
    const pk = record.dynamodb?.Keys?.pk?.S;
    // FREEZE#<app> and LOCK#<application>#<group> are what their held steps are kept under.
    if (pk?.startsWith("FREEZE#") || pk?.startsWith("LOCK#")) holds.add(pk);
  }
  const ports = { holds: holdWatches(), executions: pipelineExecutions() };
  for (const on of holds) {
    const resumed = await releaseHolds(ports, on);
    if (resumed > 0) logger.info("held waves resumed", { on, resumed });
  }
  return { batchItemFailures: [] };
});
