import { type ChildProcess, spawn } from "node:child_process";
import { LOCAL_SERVICES, type LocalServiceName } from "../../local/local-services";
import { PROJECT_ROOT } from "../../local/stack";
import { callApi } from "./local-stack";

// biome-ignore lint/suspicious/noExplicitAny: tests read answers loosely and assert on them
type Json = any;

/** `npm start` (node with tsx, as the script runs it) as a process of its own, on free ports. */
export interface StackProcess {
  /** Where each service listens, read from the banner, by its name in LOCAL_SERVICES. */
  endpoints: Record<LocalServiceName, string>;
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
  const endpoints = await new Promise<Record<LocalServiceName, string>>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      // The banner's last line: every service's line is there by then.
      if (!out.includes("Ctrl-C")) return;
      const found = LOCAL_SERVICES.map((service) => {
        const address = new RegExp(`^ +${service.title} +(http://\\S+)`, "m").exec(out)?.[1];
        return [service.name, address] as const;
      });
      const missing = found.filter(([, address]) => !address).map(([name]) => name);
      if (missing.length > 0)
        reject(new Error(`npm start's banner names no ${missing.join(", ")}`));
      else resolve(Object.fromEntries(found) as Record<LocalServiceName, string>);
    });
    child.once("exit", (code) => reject(new Error(`npm start exited (${code}) before serving`)));
  });
  return {
    endpoints,
    call: (method, route, body) => callApi(endpoints.api, method, route, body),
    kill: async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
      children.delete(child);
    },
  };
}
