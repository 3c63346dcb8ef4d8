import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { SFNClient } from "@aws-sdk/client-sfn";
import { close, listen, serveAwsJson } from "../../local/aws-json-server";
import { LocalCodeBuild } from "../../local/codebuild";
import { LambdaRuntime } from "../../local/lambda-runtime";
import {
  createLocalStepFunctions,
  type ExecutionStatusChange,
  type LocalStepFunctions,
  type Timing,
} from "../../local/stepfunctions";

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
  /** The region its ARNs name; us-east-1 unless told. */
  region?: string;
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
    region: options.region ?? REGION,
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
      await engine.stop();
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
