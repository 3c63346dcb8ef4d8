import path from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { type LocalDynamoDb, type LocalDynamoDbOptions, startLocalDynamoDb } from "../dynamodb";
import { createTableFromTemplate } from "../dynamodb/table-from-template";
import { startLocalDynamoDbThread } from "../dynamodb/thread";
import type { LocalService } from "../local-service";

type DynamoDbOptions = Pick<
  LocalDynamoDbOptions,
  "ttlSweepIntervalMs" | "streamRetryBaseDelayMs" | "streamRetryMaxDelayMs"
> & {
  /**
   * On a worker thread of its own (`npm start`, the bench), beside the other stand-ins rather
   * than between their calls; tests keep it in this process, where their faults reach it.
   */
  thread?: boolean;
};

/**
 * DynamoDB: dynalite (in memory, every write logged under the state folder), behind a front
 * that adds transactions, streams (delivered to serverless.yml's stream functions as Lambda's
 * event source mappings do) and time to live; the table of serverless.yml.
 */
export const dynamodbService: LocalService<"dynamodb", LocalDynamoDb, DynamoDbOptions> = {
  name: "dynamodb",
  title: "DynamoDB",
  endpointVariable: "AWS_ENDPOINT_URL_DYNAMODB",
  portVariable: "SLUICE_DYNAMODB_PORT",
  defaultPort: 8000,
  async start(
    { stateDir, region, accountId, credentials, config, resources, lambdas, faults },
    port,
    { thread, ...timing } = {},
  ) {
    const store = { dir: path.join(stateDir, "dynamodb"), port, region, accountId, ...timing };
    const dynamoDb = thread
      ? await startLocalDynamoDbThread(store)
      : await startLocalDynamoDb({
          ...store,
          fault: (operation) => faults.take("dynamodb", operation),
        });
    try {
      await createTableFromTemplate(
        resources.table,
        config.resources.get("SluiceTable")?.Properties,
        new DynamoDBClient({ endpoint: dynamoDb.endpoint, region, credentials }),
      );
    } catch (err) {
      await dynamoDb.close();
      throw err;
    }
    return {
      port: Number(new URL(dynamoDb.endpoint).port),
      handle: dynamoDb,
      env: { SLUICE_TABLE: resources.table },
      summary: `table ${resources.table} (with its stream and time to live)`,
      // The stream's functions read the stack's environment, which is set once all have started.
      ready: async () => {
        for (const consumer of config.streamConsumers) {
          dynamoDb.streams.subscribe(consumer, (event) =>
            lambdas.invoke(consumer.functionName, event),
          );
        }
      },
      drain: () => dynamoDb.streams.close(),
      stop: () => dynamoDb.close(),
    };
  },
};
