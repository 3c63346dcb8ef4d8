import { unmarshall } from "@aws-sdk/util-dynamodb";
import middy from "@middy/core";
import type { AttributeValue, DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { eventBus } from "../adapters/event-bus";
import { logger } from "../http/logger";
import { publishOutbox } from "../usecases/publish-events";

/**
 * The table's stream consumer: every outbox item a run's change wrote goes to the bus, at least
 * once. A refused event and those after it are reported back, so the stream retries them.
 */
export const handler = middy(async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  const records = event.Records.flatMap((r) =>
    r.eventName === "INSERT" && r.dynamodb?.NewImage && r.dynamodb.SequenceNumber
      ? [
          {
            sequenceNumber: r.dynamodb.SequenceNumber,
            item: unmarshall(r.dynamodb.NewImage as Record<string, AttributeValue> as never),
          },
        ]
      : [],
  );
  const retry = await publishOutbox(eventBus(), records);
  if (retry.length > 0) logger.warn("events to publish again", { count: retry.length });
  return { batchItemFailures: retry.map((itemIdentifier) => ({ itemIdentifier })) };
});
