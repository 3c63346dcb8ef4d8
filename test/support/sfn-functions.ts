import { appendFileSync, existsSync } from "node:fs";
import type { Context } from "aws-lambda";

/**
 * Lambda handlers for the Step Functions fixtures. Each notes its invocation (function name and
 * event) in the file SLUICE_SFN_TEST_LOG names, which a test reads to see what ran, and how
 * often, also when the stand-in runs in a process of its own.
 */
function note(context: Context, event: unknown): void {
  const file = process.env.SLUICE_SFN_TEST_LOG;
  if (file) appendFileSync(file, `${JSON.stringify({ fn: context.functionName, event })}\n`);
}

/** Hands its event back. */
export async function record(event: unknown, context: Context): Promise<unknown> {
  note(context, event);
  return event;
}

/** Fails with NotYet until the file its event names exists. */
export async function failUntil(event: { file: string }, context: Context): Promise<unknown> {
  note(context, event);
  if (!existsSync(event.file))
    throw Object.assign(new Error("the file is not there yet"), { name: "NotYet" });
  return { passed: true };
}

/** Always fails, with Boom. */
export async function boom(event: unknown, context: Context): Promise<never> {
  note(context, event);
  throw Object.assign(new Error("it went boom"), { name: "Boom" });
}
