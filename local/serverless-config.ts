import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import * as z from "../domain/zod";

/**
 * The parts of serverless.yml the local stack serves: functions with their HTTP routes, event
 * rules and table streams they read, the state machines, and the table's definition. Read from
 * the file every start, so the local stack cannot drift from what deploys.
 */
const HttpApiEventSchema = z.object({
  httpApi: z.object({
    method: z.string(),
    path: z.string(),
    authorizer: z.optional(
      z.object({ type: z.optional(z.string()), name: z.optional(z.string()) }),
    ),
  }),
});
const EventBridgeEventSchema = z.object({
  eventBridge: z.object({ pattern: z.record(z.string(), z.unknown()) }),
});
const StreamEventSchema = z.object({
  stream: z.object({
    type: z.literal("dynamodb"),
    arn: z.object({ "Fn::GetAtt": z.tuple([z.string(), z.literal("StreamArn")]) }),
    // osls's defaults, which it writes into the event source mapping.
    batchSize: z._default(z.int().check(z.minimum(1), z.maximum(10_000)), 10),
    startingPosition: z._default(z.enum(["TRIM_HORIZON", "LATEST"]), "TRIM_HORIZON"),
    maximumRetryAttempts: z.optional(z.int().check(z.minimum(-1), z.maximum(10_000))),
    functionResponseType: z.optional(z.literal("ReportBatchItemFailures")),
    filterPatterns: z.optional(z.array(z.record(z.string(), z.unknown()))),
    enabled: z._default(z.boolean(), true),
  }),
});
const FunctionSchema = z.object({
  handler: z
    .string()
    .check(z.regex(/^[\w/.-]+\.\w+$/, "handler must look like path/to/module.export")),
  timeout: z.optional(z.number()),
  events: z._default(z.array(z.record(z.string(), z.unknown())), []),
});
const ServerlessSchema = z.object({
  service: z.string(),
  custom: z._default(z.record(z.string(), z.unknown()), {}),
  provider: z.object({ timeout: z._default(z.number(), 6) }),
  functions: z.record(z.string(), FunctionSchema),
  stepFunctions: z.object({
    stateMachines: z.record(
      z.string(),
      z.object({ name: z.optional(z.string()), definition: z.unknown() }),
    ),
  }),
  resources: z.object({
    Resources: z.record(z.string(), z.object({ Type: z.string(), Properties: z.unknown() })),
  }),
});

export interface HttpRoute {
  method: string;
  path: string;
  functionName: string;
  /** The JWT authorizer of provider.httpApi.authorizers the route names: a person's route. */
  jwtAuthorizer?: string;
}

/** A rule on the default bus that invokes a function, from a function's `eventBridge` event. */
export interface EventRule {
  functionName: string;
  pattern: Record<string, unknown>;
}

/** A function reading a table's stream, from a function's `stream` event (a DynamoDB one). */
export interface StreamConsumer {
  /** Names the consumer's checkpoint: the function's name, with `-2`, `-3`… for its further stream events. */
  id: string;
  functionName: string;
  /** The table's name, resolved for the stage. */
  tableName: string;
  batchSize: number;
  startingPosition: "TRIM_HORIZON" | "LATEST";
  maximumRetryAttempts?: number;
  reportBatchItemFailures: boolean;
  filterPatterns?: Record<string, unknown>[];
}

export interface LocalFunction {
  name: string;
  modulePath: string;
  exportName: string;
  timeoutSeconds: number;
}

export interface ServerlessConfig {
  service: string;
  functions: Map<string, LocalFunction>;
  routes: HttpRoute[];
  eventRules: EventRule[];
  streamConsumers: StreamConsumer[];
  /** State machine key → its ASL definition, still holding `Fn::GetAtt` function references. */
  stateMachines: Map<string, unknown>;
  /** State machine key → its name, as the stage gives it. */
  stateMachineNames: Map<string, string>;
  /** A `custom` value of serverless.yml (a resource name, say) as osls resolves it for the stage. */
  custom(name: string): string;
  /** CloudFormation resource properties by logical id (the table's key schema, say). */
  resources: Map<string, { Type: string; Properties: unknown }>;
}

const FILE_VARIABLE = /^\$\{file\(([^)]+)\)\}$/;

export async function loadServerlessConfig(
  root: string,
  stage = "local",
): Promise<ServerlessConfig> {
  const text = await readFile(path.join(root, "serverless.yml"), "utf8");
  const parsed = ServerlessSchema.parse(parseYaml(text));
  const variables = (value: unknown) =>
    resolveVariables(value, parsed.service, stage, parsed.custom);
  const functions = new Map<string, LocalFunction>();
  const routes: HttpRoute[] = [];
  const eventRules: EventRule[] = [];
  const streamConsumers: StreamConsumer[] = [];
  for (const [name, fn] of Object.entries(parsed.functions)) {
    const dot = fn.handler.lastIndexOf(".");
    functions.set(name, {
      name,
      modulePath: path.join(root, `${fn.handler.slice(0, dot)}.ts`),
      exportName: fn.handler.slice(dot + 1),
      timeoutSeconds: fn.timeout ?? parsed.provider.timeout,
    });
    for (const event of fn.events) {
      const http = HttpApiEventSchema.safeParse(event);
      if (http.success) {
        const authorizer = http.data.httpApi.authorizer;
        routes.push({
          method: http.data.httpApi.method.toUpperCase(),
          path: http.data.httpApi.path,
          functionName: name,
          ...(authorizer?.name && authorizer.type !== "aws_iam"
            ? { jwtAuthorizer: authorizer.name }
            : {}),
        });
      }
      const rule = EventBridgeEventSchema.safeParse(event);
      if (rule.success)
        eventRules.push({ functionName: name, pattern: rule.data.eventBridge.pattern });
      if ("stream" in event) {
        const { stream } = StreamEventSchema.parse(event);
        if (!stream.enabled) continue;
        const [resource] = stream.arn["Fn::GetAtt"];
        const properties = parsed.resources.Resources[resource]?.Properties as
          | { TableName?: unknown }
          | undefined;
        const tableName = variables(properties?.TableName);
        if (typeof tableName !== "string") {
          throw new Error(
            `function ${name} reads the stream of ${resource}, which has no TableName`,
          );
        }
        const earlier = streamConsumers.filter((c) => c.functionName === name).length;
        streamConsumers.push({
          id: earlier ? `${name}-${earlier + 1}` : name,
          functionName: name,
          tableName,
          batchSize: stream.batchSize,
          startingPosition: stream.startingPosition,
          ...(stream.maximumRetryAttempts === undefined
            ? {}
            : { maximumRetryAttempts: stream.maximumRetryAttempts }),
          reportBatchItemFailures: stream.functionResponseType === "ReportBatchItemFailures",
          ...(stream.filterPatterns ? { filterPatterns: stream.filterPatterns } : {}),
        });
      }
    }
  }
  const stateMachines = new Map<string, unknown>();
  const stateMachineNames = new Map<string, string>();
  for (const [key, machine] of Object.entries(parsed.stepFunctions.stateMachines)) {
    stateMachines.set(key, variables(await resolveFileVariable(root, machine.definition)));
    stateMachineNames.set(
      key,
      String(variables(machine.name ?? `${parsed.service}-${stage}-${key}`)),
    );
  }
  return {
    service: parsed.service,
    functions,
    routes,
    eventRules,
    streamConsumers,
    stateMachines,
    stateMachineNames,
    resources: new Map(Object.entries(parsed.resources.Resources)),
    custom: (name) => {
      const value = variables(parsed.custom[name]);
      if (typeof value !== "string") {
        throw new Error(`custom.${name} in serverless.yml is not a string the local stack can use`);
      }
      return value;
    },
  };
}

async function resolveFileVariable(root: string, value: unknown): Promise<unknown> {
  if (typeof value !== "string") return value;
  const match = FILE_VARIABLE.exec(value);
  if (!match?.[1]) return value;
  return parseYaml(await readFile(path.join(root, match[1]), "utf8"));
}

const VARIABLE = /\$\{(sls:stage|self:service|self:custom\.[\w.]+)\}/g;

/**
 * The few Serverless variables a definition may use (`${sls:stage}`, `${self:service}`,
 * `${self:custom.name}`), resolved as osls would for the given stage.
 */
function resolveVariables(
  value: unknown,
  service: string,
  stage: string,
  custom: Record<string, unknown>,
): unknown {
  const again = (v: unknown) => resolveVariables(v, service, stage, custom);
  if (typeof value === "string") {
    return value.replace(VARIABLE, (_, name: string) => {
      if (name === "sls:stage") return stage;
      if (name === "self:service") return service;
      const resolved = again(custom[name.slice("self:custom.".length)]);
      if (typeof resolved !== "string")
        throw new Error(`\${${name}} is not a string in serverless.yml`);
      return resolved;
    });
  }
  if (Array.isArray(value)) return value.map(again);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, again(v)]));
  }
  return value;
}
