import { unmarshall } from "@aws-sdk/util-dynamodb";
import middy from "@middy/core";
import type { AttributeValue, DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { queuePorts } from "../adapters/queue-ports";
import { RunSchema } from "../domain/run";
import * as z from "../domain/zod";
import { logger } from "../http/logger";
import { admitRecordedRuns, type RecordedRun } from "../usecases/admit-runs";

const EnvSchema = z.object({
  /** How long a run whose pipeline will not start is tried again before it is ended FAILED. */
  SLUICE_ADMISSION_RETRY_SECONDS: z._default(z.coerce.number().check(z.nonnegative()), 300),
});

/**
 * The table's stream consumer for newly recorded runs (INSERTs of run items): lets each in by
 * its execution mode (queue, supersede, slot, StartExecution). What failed is reported back, so
 * the stream delivers it again, in order.
 */
export const handler = middy(async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  const records = event.Records.flatMap((r): RecordedRun[] => {
    const image = r.dynamodb?.NewImage;
    const sequenceNumber = r.dynamodb?.SequenceNumber;
    if (r.eventName !== "INSERT" || !image || !sequenceNumber) return [];
    const run = RunSchema.safeParse(unmarshall(image as Record<string, AttributeValue> as never));
    if (!run.success) {
      logger.error("a run item the stream brought does not parse; it is not admitted", {
        sequenceNumber,
        problems: run.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`),
      });
      return [];
    }
    const seconds = r.dynamodb?.ApproximateCreationDateTime;
    const recordedAt = seconds === undefined ? Date.parse(run.data.createdAt) : seconds * 1000;
    return [{ sequenceNumber, run: run.data, recordedAt }];
  });
  const { SLUICE_ADMISSION_RETRY_SECONDS } = EnvSchema.parse(process.env);
  const { retry, failure } = await admitRecordedRuns(
    queuePorts(),
    records,
    SLUICE_ADMISSION_RETRY_SECONDS * 1000,
  );
  if (retry.length > 0) logger.warn("runs to admit again", { count: retry.length, error: failure });
  return { batchItemFailures: retry.map((itemIdentifier) => ({ itemIdentifier })) };
});
