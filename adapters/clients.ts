import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { S3Client } from "@aws-sdk/client-s3";
import { SFNClient } from "@aws-sdk/client-sfn";
import { SSMClient } from "@aws-sdk/client-ssm";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { AppStore } from "./app-store";
import { DynamoBundleLedger } from "./bundle-ledger";
import { readConfig, type SluiceConfig } from "./config";
import { DeliveryLog } from "./delivery-log";
import { EventBus } from "./event-bus";
import { PipelineExecutions } from "./pipeline-executions";
import { ReleaseBucket } from "./release-bucket";
import { DynamoRunQueue } from "./run-queue";
import { RunStore } from "./run-store";
import { SecretStore } from "./secret-store";

/** The adapters a handler works with, built from the clients and the stack's resource names. */
export interface Adapters {
  config: SluiceConfig;
  apps: AppStore;
  runs: RunStore;
  queue: DynamoRunQueue;
  events: EventBus;
  executions: PipelineExecutions;
  releases: ReleaseBucket;
  bundles: DynamoBundleLedger;
  secrets: SecretStore;
  deliveries: DeliveryLog;
  s3: S3Client;
}

export function createAdapters(config: SluiceConfig): Adapters {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const s3 = new S3Client({ forcePathStyle: config.s3ForcePathStyle });
  return {
    config,
    apps: new AppStore(doc, config.table),
    runs: new RunStore(doc, config.table),
    queue: new DynamoRunQueue(doc, config.table),
    events: new EventBus(new EventBridgeClient({}), config.eventBus),
    executions: new PipelineExecutions(new SFNClient({}), config.pipelineArn),
    releases: new ReleaseBucket(s3, config.releasesBucket),
    bundles: new DynamoBundleLedger(doc, config.table),
    secrets: new SecretStore(new SSMClient({}), config.secretsPrefix),
    deliveries: new DeliveryLog(doc, config.table),
    s3,
  };
}

let cached: Adapters | undefined;

/** Built on first use and kept for the life of the Lambda container (one cold start). */
export function adapters(): Adapters {
  cached ??= createAdapters(readConfig());
  return cached;
}
