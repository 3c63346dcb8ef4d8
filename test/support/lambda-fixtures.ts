/** Handlers for the worker-thread tests of the local Lambda runtime, beside sfn-functions.ts. */

/** Never answers, so only the function's timeout ends the invocation. */
export function hang(): Promise<never> {
  return new Promise(() => undefined);
}

/** The value of the environment variable its event names, as the handler sees it. */
export async function envOf(event: { name: string }): Promise<string | null> {
  return process.env[event.name] ?? null;
}
