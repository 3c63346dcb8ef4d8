import { mkdir } from "node:fs/promises";
import type { Server } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  CreateTableCommand,
  DynamoDBClient,
  ResourceInUseException,
} from "@aws-sdk/client-dynamodb";
import dynalite from "dynalite";
import S3rver from "s3rver";
import { logger } from "../http/logger";
import { close, listen, serveAwsJson } from "./aws-json-server";
import { LocalCodeBuild } from "./codebuild";
import { matchesPattern } from "./event-pattern";
import { DEFAULT_BUS, LocalEventBridge } from "./eventbridge";
import { createHttpApi } from "./http-api";
import { LambdaRuntime } from "./lambda-runtime";
import { BucketNotifier, lambdaNotifications } from "./s3-notifications";
import { type EventRule, loadServerlessConfig } from "./serverless-config";
import { LocalSsm } from "./ssm";
import {
  createLocalStepFunctions,
  type ExecutionStatusChange,
  type LocalStepFunctions,
  type Timing,
} from "./stepfunctions";

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const REGION = "us-east-1";
const ACCOUNT_ID = "000000000000";
const STAGE = "local";
/** s3rver knows one key pair; the other stand-ins take any, so every client uses this one. */
export const LOCAL_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

export interface LocalStackOptions {
  /** Where DynamoDB and S3 keep their data and the event log is written. */
  stateDir: string;
  /** 0 picks a free port (what tests use). */
  ports?: Partial<
    Record<"api" | "dynamodb" | "s3" | "stepFunctions" | "eventBridge" | "ssm", number>
  >;
  /** Log level for the handlers' structured logs. */
  logLevel?: string;
  /** Test hooks that shorten Waits, retry intervals and task timeouts (scales; 1 = as written). */
  timing?: Timing;
}

export interface LocalStack {
  endpoints: {
    api: string;
    dynamodb: string;
    s3: string;
    stepFunctions: string;
    eventBridge: string;
    ssm: string;
  };
  resources: {
    table: string;
    eventBus: string;
    releasesBucket: string;
    pipelineArn: string;
    secretsPrefix: string;
    buildProject: string;
  };
  stateDir: string;
  eventLog: string;
  eventBridge: LocalEventBridge;
  stepFunctions: LocalStepFunctions;
  /** The environment handlers and SDK clients see; also what a shell needs to reach the stack. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Brings up every AWS service Sluice uses on loopback and points this process's SDK clients
 * at them through the environment, the only thing that differs from AWS. The handlers, state
 * machines and table come from serverless.yml.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const stateDir = path.resolve(options.stateDir);
  const ports = options.ports ?? {};
  await mkdir(path.join(stateDir, "dynamodb"), { recursive: true });
  await mkdir(path.join(stateDir, "s3"), { recursive: true });
  const config = await loadServerlessConfig(PROJECT_ROOT, STAGE);
  const resources = {
    table: config.custom("tableName"),
    eventBus: config.custom("eventBusName"),
    // In AWS the name also carries the account and region, since bucket names are global.
    releasesBucket: `${config.service}-${STAGE}-releases`,
    pipelineArn: "",
    secretsPrefix: config.custom("secretsPrefix"),
    buildProject: config.custom("buildProjectName"),
  };
  // Closed in reverse: intake first, then work in flight, then the services it talks to.
  const closers: (() => Promise<void>)[] = [];
  try {
    const dynamo = dynalite({ path: path.join(stateDir, "dynamodb"), createTableMs: 0 }) as Server;
    const dynamoPort = await listen(dynamo, ports.dynamodb ?? 0);
    closers.push(() => close(dynamo));

    const s3 = new S3rver({
      address: "127.0.0.1",
      port: ports.s3 ?? 0,
      directory: path.join(stateDir, "s3"),
      silent: true,
      allowMismatchedSignatures: true,
      vhostBuckets: false,
      configureBuckets: [{ name: resources.releasesBucket, configs: [] }],
    });
    const s3Address = (await s3.run()) as { port: number };
    closers.push(() => s3.close());

    const endpoints = {
      api: "",
      dynamodb: `http://127.0.0.1:${dynamoPort}`,
      s3: `http://127.0.0.1:${s3Address.port}`,
      stepFunctions: "",
      eventBridge: "",
      ssm: "",
    };

    const lambdas = new LambdaRuntime(config.functions, REGION, ACCOUNT_ID);
    const codeBuild = new LocalCodeBuild(
      path.join(stateDir, "codebuild"),
      new Set([resources.buildProject]),
      REGION,
      ACCOUNT_ID,
    );
    const stepFunctions = await createLocalStepFunctions({
      stateDir,
      lambdas,
      integrations: {
        "arn:aws:states:::codebuild:startBuild.sync": (input, { signal }) =>
          codeBuild.startBuildSync(input, signal),
      },
      region: REGION,
      accountId: ACCOUNT_ID,
      ...(options.timing ? { timing: options.timing } : {}),
    });
    for (const [key, definition] of config.stateMachines) {
      const arn = stepFunctions.register(config.stateMachineNames.get(key) ?? key, definition);
      if (key === "pipeline") resources.pipelineArn = arn;
    }
    const sfnServer = serveAwsJson(
      "AWSStepFunctions",
      "application/x-amz-json-1.0",
      stepFunctions.operations,
    );
    endpoints.stepFunctions = `http://127.0.0.1:${await listen(sfnServer, ports.stepFunctions ?? 0)}`;
    closers.push(() => close(sfnServer));

    const eventLog = path.join(stateDir, "events.jsonl");
    const eventBridge = new LocalEventBridge(
      eventLog,
      new Set([resources.eventBus, DEFAULT_BUS]),
      REGION,
      ACCOUNT_ID,
    );
    routeEventRules(eventBridge, config.eventRules, lambdas);
    const announcing = new Set<Promise<unknown>>();
    stepFunctions.onEnded((change) => {
      const announced = eventBridge
        .put([statusChangeEntry(change)])
        .catch((error: unknown) => logger.error("could not announce an execution's end", { error }))
        .finally(() => announcing.delete(announced));
      announcing.add(announced);
      return announced;
    });
    const eventsServer = serveAwsJson(
      "AWSEvents",
      "application/x-amz-json-1.1",
      eventBridge.operations,
    );
    endpoints.eventBridge = `http://127.0.0.1:${await listen(eventsServer, ports.eventBridge ?? 0)}`;
    closers.push(() => close(eventsServer));

    const ssm = await LocalSsm.open(path.join(stateDir, "ssm.json"), REGION, ACCOUNT_ID);
    const ssmServer = serveAwsJson("AmazonSSM", "application/x-amz-json-1.1", ssm.operations);
    endpoints.ssm = `http://127.0.0.1:${await listen(ssmServer, ports.ssm ?? 0)}`;
    closers.push(() => close(ssmServer));

    const env: Record<string, string> = {
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
      AWS_ENDPOINT_URL_S3: endpoints.s3,
      AWS_ENDPOINT_URL_SFN: endpoints.stepFunctions,
      AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.eventBridge,
      AWS_ENDPOINT_URL_SSM: endpoints.ssm,
      SLUICE_TABLE: resources.table,
      SLUICE_EVENT_BUS: resources.eventBus,
      SLUICE_RELEASES_BUCKET: resources.releasesBucket,
      SLUICE_PIPELINE_ARN: resources.pipelineArn,
      SLUICE_BUILD_PROJECT: resources.buildProject,
      SLUICE_S3_FORCE_PATH_STYLE: "true",
      SLUICE_SECRETS_PREFIX: resources.secretsPrefix,
      LOG_LEVEL: options.logLevel ?? "warn",
    };
    Object.assign(process.env, env);
    await createTable(config.resources.get("SluiceTable")?.Properties, resources.table);

    const notifier = new BucketNotifier(
      resources.releasesBucket,
      lambdaNotifications(
        config.resources.get("ReleasesBucket")?.Properties,
        config.functions.keys(),
      ),
      lambdas,
      REGION,
    );
    s3.on("event", (event: unknown) => notifier.notify(event));
    closers.push(async () => {
      await stepFunctions.stop();
      await Promise.allSettled([...announcing]);
      await lambdas.drain();
    });
    closers.push(() => notifier.drain());

    const api = createHttpApi(config.routes, lambdas);
    endpoints.api = `http://127.0.0.1:${await listen(api, ports.api ?? 0)}`;
    closers.push(() => close(api));

    stepFunctions.resumeAll();

    return {
      endpoints,
      resources,
      stateDir,
      eventLog,
      eventBridge,
      stepFunctions,
      env,
      stop: async () => {
        for (const closer of closers.reverse()) await closer();
      },
    };
  } catch (err) {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
    throw err;
  }
}

/** Creates the table from its CloudFormation properties in serverless.yml, once. */
async function createTable(properties: unknown, tableName: string): Promise<void> {
  if (!properties || typeof properties !== "object") {
    throw new Error("serverless.yml has no SluiceTable resource to create locally");
  }
  const { AttributeDefinitions, KeySchema, GlobalSecondaryIndexes, BillingMode } =
    properties as Record<string, never>;
  const client = new DynamoDBClient({});
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions,
        KeySchema,
        GlobalSecondaryIndexes,
        BillingMode,
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  } finally {
    client.destroy();
  }
}

/** The default bus's rules from serverless.yml: each matching event invokes its function. */
function routeEventRules(
  eventBridge: LocalEventBridge,
  rules: readonly EventRule[],
  lambdas: LambdaRuntime,
): void {
  eventBridge.subscribe((event) => {
    if (event["event-bus-name"] !== DEFAULT_BUS) return;
    for (const rule of rules) {
      if (!matchesPattern(rule.pattern, event)) continue;
      lambdas.invoke(rule.functionName, event).catch((error: unknown) => {
        logger.error("event rule target failed", { functionName: rule.functionName, error });
      });
    }
  });
}

/** A "Step Functions Execution Status Change" event as Step Functions puts it on the bus. */
function statusChangeEntry(change: ExecutionStatusChange): Record<string, unknown> {
  return {
    Source: "aws.states",
    DetailType: "Step Functions Execution Status Change",
    EventBusName: DEFAULT_BUS,
    Resources: [change.executionArn],
    Detail: JSON.stringify({
      executionArn: change.executionArn,
      stateMachineArn: change.stateMachineArn,
      name: change.name,
      status: change.status,
      startDate: Math.round(change.startDate * 1000),
      stopDate: Math.round(change.stopDate * 1000),
      ...(change.error ? { error: change.error } : {}),
      ...(change.cause ? { cause: change.cause } : {}),
    }),
  };
}
