/** Handlers for the worker-thread tests of the local Lambda runtime, beside sfn-functions.ts. */

/** Never answers, so only the function's timeout ends the invocation. */
export function hang(): Promise<never> {
  return new Promise(() => undefined);
}

/** The value of the environment variable its event names, as the handler sees it. */
export async function envOf(event: { name: string }): Promise<string | null> {
  return process.env[event.name] ?? null;
}

/** Answers after the event's `ms`, keeping its container busy meanwhile. */
export async function pause(event: { ms: number }): Promise<null> {
  await new Promise((resolve) => setTimeout(resolve, event.ms));
  return null;
}

/** The id of the worker thread the invocation ran on. */
export async function threadOf(): Promise<number> {
  const { threadId } = await import("node:worker_threads");
  return threadId;
}
