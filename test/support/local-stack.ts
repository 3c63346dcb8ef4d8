import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { LOCAL_SERVICES } from "../../local/local-services";
import { type LocalStack, type LocalStackOptions, startLocalStack } from "../../local/stack";
import type { Timing } from "../../local/stepfunctions";

/**
 * A local stack on free ports with its own state folder, for one test file. Handlers keep their
 * SDK clients for the life of the process (as a warm Lambda does), so a stack started again in
 * the same file must reuse the first one's ports.
 */
export async function startTestStack(
  stateDir?: string,
  ports?: LocalStackOptions["ports"],
  timing?: Timing,
  /** Test hooks of the other services, such as the local DynamoDB's stream retry delays. */
  serviceOptions: LocalStackOptions["serviceOptions"] = {},
): Promise<LocalStack & { cleanup(): Promise<void> }> {
  const dir = stateDir ?? (await mkdtemp(path.join(tmpdir(), "sluice-test-")));
  const stack = await startLocalStack({
    stateDir: dir,
    logLevel: "error",
    ...(ports ? { ports } : {}),
    serviceOptions: { ...serviceOptions, ...(timing ? { stepFunctions: timing } : {}) },
  }).catch(async (err: unknown) => {
    // A start that fails (as one test means it to) leaves the folder it made to nobody.
    if (!stateDir) await rm(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    ...stack,
    cleanup: async () => {
      await stack.stop();
      if (!stateDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

type CodeDeployOptions = NonNullable<
  NonNullable<LocalStackOptions["serviceOptions"]>["codedeploy"]
>;

/**
 * The port base for hosts of this test worker's stacks: below the ephemeral range, so nothing
 * the system hands out takes a host's port, and a hundred apart per worker (vitest numbers the
 * workers running at once from 1), so the fleets of files run side by side never share one.
 */
export function workerHostPortBase(): number {
  return 20_000 + 100 * Number(process.env.VITEST_POOL_ID ?? 0);
}

/** A stack of startFleetStack: its work folder holds its state folder and its fleet file. */
export type FleetStack = Awaited<ReturnType<typeof startTestStack>> & { workDir: string };

/**
 * A local stack with hosts to deploy to: `fleet` (a local-fleet.yml) and the state folder in a
 * work folder of its own (named from `prefix`), which cleanup removes with the stack. Hosts
 * listen on this worker's ports; `codedeploy` sets the stand-in's other test hooks.
 */
export async function startFleetStack(
  prefix: string,
  fleet: string,
  options: { timing?: Timing; codedeploy?: Omit<CodeDeployOptions, "fleetFile"> } = {},
): Promise<FleetStack> {
  const workDir = await mkdtemp(path.join(tmpdir(), prefix));
  const fleetFile = path.join(workDir, "local-fleet.yml");
  await writeFile(fleetFile, fleet);
  const stack = await startTestStack(path.join(workDir, "state"), undefined, options.timing, {
    codedeploy: { hostPortBase: workerHostPortBase(), ...options.codedeploy, fleetFile },
  }).catch(async (err: unknown) => {
    await rm(workDir, { recursive: true, force: true });
    throw err;
  });
  return {
    ...stack,
    workDir,
    cleanup: async () => {
      await stack.cleanup();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

/** The port each service of `stack` listens on, to start another stack on the same ones. */
export function portsOf(stack: LocalStack): NonNullable<LocalStackOptions["ports"]> {
  return Object.fromEntries(
    LOCAL_SERVICES.map((service) => [
      service.name,
      Number(new URL(stack.endpoints[service.name]).port),
    ]),
  );
}

/** Polls until `check` returns a value, or fails after the deadline, naming what it waited for. */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  { timeoutMs = 10_000, intervalMs = 25, what = "condition" } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

// biome-ignore lint/suspicious/noExplicitAny: tests read answers loosely and assert on them
type Json = any;

export function api(
  stack: LocalStack,
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json }> {
  return callApi(stack.endpoints.api, method, route, body, headers);
}

/** A call to a Sluice HTTP API at `base`: a JSON answer parsed, any other kept as text. */
export async function callApi(
  base: string,
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${base}${route}`, {
    method,
    headers:
      body === undefined || typeof body === "string"
        ? headers
        : { "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not every answer is JSON; keep the text.
  }
  return { status: res.status, body: parsed };
}

/**
 * Once the table's stream has been taken by its consumers up to now: every run recorded so far
 * has been let in (admitRuns) and every event written so far published.
 */
export function streamsTaken(stack: LocalStack): Promise<void> {
  return stack.services.dynamodb.streams.idle();
}

/** Each run's status, in the order of `ids`. */
export async function runStatuses(stack: LocalStack, ids: readonly string[]): Promise<string[]> {
  return Promise.all(ids.map(async (id) => (await api(stack, "GET", `/runs/${id}`)).body.status));
}

const ENDED = ["SUCCEEDED", "FAILED", "SUPERSEDED"];

/** The runs, once every one of them has ended. */
export async function allRunsEnded(stack: LocalStack, ids: readonly string[]): Promise<Json[]> {
  return waitFor(
    async () => {
      const runs = await Promise.all(
        ids.map(async (id) => (await api(stack, "GET", `/runs/${id}`)).body),
      );
      return runs.every((r) => ENDED.includes(r.status)) ? runs : undefined;
    },
    { what: "every run to end", timeoutMs: 30_000 },
  );
}
