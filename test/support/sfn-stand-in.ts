import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
} from "@aws-sdk/client-sfn";
import { close, listen, serveAwsJson } from "../../local/aws-json-server";
import { LocalCodeBuild } from "../../local/codebuild";
import { LambdaRuntime } from "../../local/lambda-runtime";
import {
  createLocalStepFunctions,
  type ExecutionStatusChange,
  type LocalStepFunctions,
  type Timing,
} from "../../local/stepfunctions";
import { waitFor } from "./local-stack";

const REGION = "us-east-1";
const ACCOUNT_ID = "000000000000";
const FUNCTIONS = path.join(path.dirname(fileURLToPath(import.meta.url)), "sfn-functions.ts");

/** The integration of fixtures that hold a task until a file exists (or the task is stopped). */
export const GATE = "arn:aws:states:::sluice-test:gate";
export const BUILD = "arn:aws:states:::codebuild:startBuild.sync";
export const BUILD_PROJECT = "fixture";

export interface StandIn {
  engine: LocalStepFunctions;
  endpoint: string;
  sfn: SFNClient;
  /** Every end announced so far. */
  ended: ExecutionStatusChange[];
  /** Stops as the local stack does: executions stay RUNNING in the state folder. */
  stop(): Promise<void>;
}

/**
 * The Step Functions stand-in alone, with the fixture functions of sfn-functions.ts, the gate
 * integration and the local CodeBuild, serving the SFN API on loopback.
 */
export async function startStandIn(options: {
  stateDir: string;
  machines: Record<string, unknown>;
  timing?: Timing;
  port?: number;
  log: string;
}): Promise<StandIn> {
  process.env.SLUICE_SFN_TEST_LOG = options.log;
  const lambdas = new LambdaRuntime(
    new Map(
      ["record", "failUntil", "boom"].map((name) => [
        name,
        { name, modulePath: FUNCTIONS, exportName: name, timeoutSeconds: 30 },
      ]),
    ),
    REGION,
    ACCOUNT_ID,
  );
  const codeBuild = new LocalCodeBuild(
    path.join(options.stateDir, "codebuild"),
    new Set([BUILD_PROJECT]),
    REGION,
    ACCOUNT_ID,
  );
  const engine = await createLocalStepFunctions({
    stateDir: options.stateDir,
    lambdas,
    integrations: {
      [BUILD]: (input, { signal }) => codeBuild.startBuildSync(input, signal),
      [GATE]: (input, { signal }) => gate(input as { file: string; output?: unknown }, signal),
    },
    region: REGION,
    accountId: ACCOUNT_ID,
    ...(options.timing ? { timing: options.timing } : {}),
  });
  const ended: ExecutionStatusChange[] = [];
  engine.onEnded((change) => {
    ended.push(change);
  });
  for (const [name, definition] of Object.entries(options.machines)) {
    engine.register(name, definition);
  }
  const server = serveAwsJson("AWSStepFunctions", "application/x-amz-json-1.0", engine.operations);
  const endpoint = `http://127.0.0.1:${await listen(server, options.port ?? 0)}`;
  engine.resumeAll();
  return {
    engine,
    endpoint,
    sfn: new SFNClient({
      endpoint,
      region: REGION,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    }),
    ended,
    stop: async () => {
      engine.abortAll();
      await engine.drain();
      await lambdas.drain();
      await close(server);
    },
  };
}

/** Holds until `file` exists, then answers its content parsed (or `output`). */
async function gate(input: { file: string; output?: unknown }, signal: AbortSignal) {
  while (!existsSync(input.file)) await delay(10, undefined, { signal });
  const text = readFileSync(input.file, "utf8");
  return text ? (JSON.parse(text) as unknown) : (input.output ?? {});
}

/** The invocations the fixture functions noted, oldest first. */
export function invocations(log: string): { fn: string; event: Record<string, unknown> }[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { fn: string; event: Record<string, unknown> });
}

/** DescribeExecution once the execution is no longer RUNNING. */
export async function endOf(sfn: SFNClient, executionArn: string, timeoutMs = 10_000) {
  return waitFor(
    async () => {
      const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return d.status === "RUNNING" ? undefined : d;
    },
    { what: `${executionArn} to end`, timeoutMs },
  );
}

/** Every history event, read page by page as the AWS CLI does. */
export async function historyOf(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 20, nextToken }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** The task tokens the `record` function was handed, oldest first, once there are `count`. */
export async function tokensHanded(log: string, count = 1): Promise<string[]> {
  return waitFor(
    async () => {
      const tokens = invocations(log).flatMap((i) =>
        typeof i.event.taskToken === "string" ? [i.event.taskToken] : [],
      );
      return tokens.length >= count ? tokens : undefined;
    },
    { what: `${count} task token(s) to be handed out` },
  );
}

/** Whether a process runs (a zombie, killed but not yet reaped, does not). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    return true;
  }
}

/** A buildspec whose build starts a background `sleep`, notes its pid, and waits for it. */
export function sleepingBuildspec(pidFile: string): string {
  return [
    "version: 0.2",
    "phases:",
    "  build:",
    "    commands:",
    `      - sleep 300 & echo $! > ${pidFile}; wait`,
  ].join("\n");
}

export async function pidIn(file: string): Promise<number> {
  return waitFor(
    async () => {
      const text = existsSync(file) ? readFileSync(file, "utf8").trim() : "";
      return text ? Number(text) : undefined;
    },
    { what: `a pid in ${file}` },
  );
}
