import type { FaultInjector } from "./faults";
import type { LambdaRuntime } from "./lambda-runtime";
import type { ServerlessConfig } from "./serverless-config";

/** The names of Sluice's own resources, as serverless.yml gives them for the local stage. */
export interface LocalResources {
  table: string;
  eventBus: string;
  releasesBucket: string;
  pipelineArn: string;
  secretsPrefix: string;
  buildProject: string;
}

/** What every stand-in is started with. */
export interface LocalServiceContext {
  /** The state folder: a stand-in keeps what must survive a restart under it. */
  readonly stateDir: string;
  readonly region: string;
  readonly accountId: string;
  /** The one key pair every client of the local stack signs with. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly config: ServerlessConfig;
  readonly resources: LocalResources;
  /** The functions of serverless.yml, invoked in-process. */
  readonly lambdas: LambdaRuntime;
  /** Failures tests ask the stand-ins to answer with; a stand-in asks it before each call. */
  readonly faults: FaultInjector;
  /** What a service listed before this one in LOCAL_SERVICES handed back when it started. */
  use<Handle>(service: LocalService<string, Handle>): Handle;
}

/** A stand-in that has started. */
export interface RunningService<Handle> {
  /** The loopback port it listens on. */
  readonly port: number;
  /** What the stack, tests and later services reach it through (the stand-in itself, say). */
  readonly handle: Handle;
  /** Environment its SDK clients need beyond its endpoint: resource names, client options. */
  readonly env?: Record<string, string>;
  /** What `npm start`'s banner shows after its address: its table, bucket, bus... */
  readonly summary: string;
  /**
   * Stops taking work in and waits for the work it started. The stack drains every service,
   * last started first, then waits for the functions in flight, and only then stops any.
   */
  drain?(): Promise<void>;
  /**
   * Called once every service has started and the environment points at them all, before the
   * stack is handed over: where a stand-in picks up work a previous start left unfinished.
   */
  ready?(): Promise<void>;
  /** Releases its port and whatever else it holds. */
  stop?(): Promise<void>;
}

/**
 * One local AWS service: everything the stack, `npm start` and the tests need to know of it.
 * Adding a stand-in is one module exporting one of these and one entry in LOCAL_SERVICES.
 */
export interface LocalService<Name extends string = string, Handle = unknown, Options = never> {
  /** The key of its endpoint and handle on the stack: `stack.endpoints.<name>`. */
  readonly name: Name;
  /** Its name on `npm start`'s banner. */
  readonly title: string;
  /** The variable that points the SDK's clients at it; none for Sluice's own HTTP API. */
  readonly endpointVariable?: `AWS_ENDPOINT_URL_${string}`;
  /** The variable that moves it to another port under `npm start`. */
  readonly portVariable: `SLUICE_${string}_PORT`;
  readonly defaultPort: number;
  /** Starts it on `port` (0: any free one), with what the caller tuned (tests shorten waits). */
  start(
    context: LocalServiceContext,
    port: number,
    options: Options | undefined,
  ): Promise<RunningService<Handle>>;
}

/** A port a service was asked to take is held by another process. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly variable: string,
    options?: ErrorOptions,
  ) {
    super(`port ${port} (${variable}) is in use: stop what holds it or set ${variable}`, options);
    this.name = "PortInUseError";
  }
}
