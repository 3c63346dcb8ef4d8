import { type ChildProcess, spawn } from "node:child_process";
import { LOCAL_SERVICES } from "../../local/local-services";
import { PROJECT_ROOT } from "../../local/stack";
import { callApi } from "./local-stack";

// biome-ignore lint/suspicious/noExplicitAny: tests read answers loosely and assert on them
type Json = any;

/** `npm start` (node with tsx, as the script runs it) as a process of its own, on free ports. */
export interface StackProcess {
  api: string;
  /** Where its Step Functions stand-in listens, read from the banner. */
  stepFunctions: string;
  call(method: string, route: string, body?: unknown): Promise<{ status: number; body: Json }>;
  /** SIGKILL, as a crash or the OOM killer would end it; resolves once it has exited. */
  kill(): Promise<void>;
}

const children = new Set<ChildProcess>();

/** Ends every stack process a test file started and did not kill (afterAll). */
export function killStackProcesses(): void {
  for (const child of children) child.kill("SIGKILL");
  children.clear();
}

export async function startStackProcess(
  stateDir: string,
  env: Record<string, string> = {},
): Promise<StackProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "local/main.ts"], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      SLUICE_STATE_DIR: stateDir,
      LOG_LEVEL: "error",
      ...Object.fromEntries(LOCAL_SERVICES.map((service) => [service.portVariable, "0"])),
      ...env,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.add(child);
  const [api, stepFunctions] = await new Promise<[string, string]>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const address = out.match(/HTTP API\s+(http:\/\/\S+)/);
      const sfn = out.match(/Step Functions\s+(http:\/\/\S+)/);
      if (address?.[1] && sfn?.[1]) resolve([address[1], sfn[1]]);
    });
    child.once("exit", (code) => reject(new Error(`npm start exited (${code}) before serving`)));
  });
  return {
    api,
    stepFunctions,
    call: (method, route, body) => callApi(api, method, route, body),
    kill: async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
      children.delete(child);
    },
  };
}
