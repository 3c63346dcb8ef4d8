import path from "node:path";
import { fileURLToPath } from "node:url";
import type { LocalEventBridge } from "./eventbridge";
import { FaultInjector } from "./faults";
import { LambdaRuntime } from "./lambda-runtime";
import {
  type LocalResources,
  type LocalService,
  type LocalServiceContext,
  PortInUseError,
  type RunningService,
} from "./local-service";
import { LOCAL_SERVICES, type LocalServiceName } from "./local-services";
import { loadServerlessConfig, type ServerlessConfig } from "./serverless-config";
import type { LocalStepFunctions } from "./stepfunctions";

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const REGION = "us-east-1";
const ACCOUNT_ID = "000000000000";
const STAGE = "local";
/** s3rver knows one key pair; the other stand-ins take any, so every client uses this one. */
export const LOCAL_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

type Listed = (typeof LOCAL_SERVICES)[number];
type ServiceHandles = {
  [S in Listed as S["name"]]: S extends LocalService<string, infer H, infer _> ? H : never;
};
type ServiceOptions = {
  [S in Listed as S["name"]]?: S extends LocalService<string, unknown, infer O> ? O : never;
};

export interface LocalStackOptions {
  /** Where the stand-ins keep their data and the event log is written. */
  stateDir: string;
  /** A port per service; 0 or none picks a free one (what tests use). */
  ports?: Partial<Record<LocalServiceName, number>>;
  /** Log level for the handlers' structured logs. */
  logLevel?: string;
  /** Options for a service by its name, such as the test hooks that shorten its waits. */
  serviceOptions?: ServiceOptions;
  /**
   * Worker threads the pipeline's functions (tasks, rules, stream consumers) run on, in
   * parallel with the intake as in Lambda. The API's route functions stay beside the API: a
   * hop to a thread and back would only add to what a client waits for. None (the default)
   * runs every function in this process, where tests reach them through in-process hooks.
   */
  lambdaWorkers?: number;
}

export interface LocalStack {
  endpoints: Record<LocalServiceName, string>;
  /** What each service handed back when it started, by its name in LOCAL_SERVICES. */
  services: ServiceHandles;
  resources: LocalResources;
  stateDir: string;
  eventLog: string;
  eventBridge: LocalEventBridge;
  stepFunctions: LocalStepFunctions;
  /** The environment handlers and SDK clients see; also what a shell needs to reach the stack. */
  env: Record<string, string>;
  /** One line per service: its name, address and what it holds. */
  banner: string[];
  /** Tests make stand-ins answer chosen calls with AWS errors through it. */
  faults: FaultInjector;
  /** What runs the handlers; its `threads` tells how many worker threads it has running. */
  lambdas: LambdaRuntime;
  stop(): Promise<void>;
}

interface Started {
  service: LocalService;
  running: RunningService<unknown>;
  endpoint: string;
}

/**
 * Brings up every service of LOCAL_SERVICES on loopback and points this process's SDK clients
 * at them through the environment, the only thing that differs from AWS. The handlers, state
 * machines and table come from serverless.yml. If one cannot start, those already started stop.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const stateDir = path.resolve(options.stateDir);
  const config = await loadServerlessConfig(PROJECT_ROOT, STAGE);
  const lambdas = new LambdaRuntime(config.functions, REGION, ACCOUNT_ID, {
    workers: options.lambdaWorkers ?? 0,
    inProcess: new Set(config.routes.map((route) => route.functionName)),
  });
  const started = new Map<LocalService, Started>();
  const faults = new FaultInjector();
  const context: LocalServiceContext = {
    stateDir,
    region: REGION,
    accountId: ACCOUNT_ID,
    credentials: LOCAL_CREDENTIALS,
    config,
    resources: localResources(config),
    lambdas,
    faults,
    use: <Handle>(service: LocalService<string, Handle>) => {
      const running = started.get(service);
      if (!running) throw new Error(`${service.name} must start earlier in LOCAL_SERVICES`);
      return running.running.handle as Handle;
    },
  };
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= stopAll([...started.values()].reverse(), lambdas);
    return stopping;
  };
  let env: Record<string, string>;
  try {
    for (const service of LOCAL_SERVICES) {
      const running = await startService(
        service,
        context,
        options.ports?.[service.name] ?? 0,
        options.serviceOptions?.[service.name],
      );
      started.set(service, { service, running, endpoint: `http://127.0.0.1:${running.port}` });
    }
    env = stackEnvironment([...started.values()], options.logLevel ?? "warn");
    Object.assign(process.env, env);
    for (const { running } of started.values()) await running.ready?.();
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  const all = [...started.values()];
  const services = Object.fromEntries(
    all.map(({ service, running }) => [service.name, running.handle]),
  ) as ServiceHandles;
  return {
    endpoints: Object.fromEntries(
      all.map(({ service, endpoint }) => [service.name, endpoint]),
    ) as LocalStack["endpoints"],
    services,
    resources: context.resources,
    stateDir,
    eventLog: services.eventBridge.logFile,
    eventBridge: services.eventBridge,
    stepFunctions: services.stepFunctions,
    env,
    banner: all.map(
      ({ service, running, endpoint }) =>
        `${service.title.padEnd(16)}${endpoint}   ${running.summary}`,
    ),
    faults,
    lambdas,
    stop,
  };
}

/** What the SDK clients of handlers and shells need: region, key pair, endpoints, names. */
function stackEnvironment(all: readonly Started[], logLevel: string): Record<string, string> {
  return {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    ...Object.fromEntries(
      all.flatMap(({ service, endpoint }) =>
        service.endpointVariable ? [[service.endpointVariable, endpoint]] : [],
      ),
    ),
    ...Object.assign({}, ...all.map(({ running }) => running.env ?? {})),
    LOG_LEVEL: logLevel,
  };
}

function localResources(config: ServerlessConfig): LocalResources {
  const pipelineName = config.stateMachineNames.get("pipeline");
  if (!pipelineName) throw new Error("serverless.yml has no pipeline state machine");
  return {
    table: config.custom("tableName"),
    eventBus: config.custom("eventBusName"),
    // In AWS the name also carries the account and region, since bucket names are global.
    releasesBucket: `${config.service}-${STAGE}-releases`,
    pipelineArn: `arn:aws:states:${REGION}:${ACCOUNT_ID}:stateMachine:${pipelineName}`,
    secretsPrefix: config.custom("secretsPrefix"),
    buildProject: config.custom("buildProjectName"),
  };
}

async function startService(
  service: LocalService<string, unknown, unknown>,
  context: LocalServiceContext,
  port: number,
  options: unknown,
): Promise<RunningService<unknown>> {
  try {
    return await service.start(context, port, options);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new PortInUseError(port, service.portVariable, { cause: err });
    }
    throw err;
  }
}

/**
 * Drains every service (intake first, as `stopping` is last started first), waits for the
 * functions still running, then stops them all, and the functions' worker threads last. One that fails to stop does not keep the
 * others holding their ports; its error is thrown once all have been tried.
 */
async function stopAll(stopping: readonly Started[], lambdas: LambdaRuntime): Promise<void> {
  const errors: unknown[] = [];
  const attempt = async (step: (() => Promise<void>) | undefined) => {
    await step?.().catch((err: unknown) => errors.push(err));
  };
  for (const { running } of stopping) await attempt(running.drain?.bind(running));
  await attempt(() => lambdas.drain());
  for (const { running } of stopping) await attempt(running.stop?.bind(running));
  await attempt(() => lambdas.stop());
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, "the local stack did not stop cleanly");
}
