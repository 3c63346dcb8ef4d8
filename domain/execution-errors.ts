import type { RunError } from "./run";
import * as z from "./zod";

/**
 * What a run's failure says, from the error and cause its execution ended with (a status-change
 * event, DescribeExecution): a person wants the message, not the JSON around it.
 */
export function runErrorOf(error: string | undefined, cause: string | undefined): RunError {
  return { error: error || "States.Runtime", cause: causeMessage(cause ?? "") };
}

/**
 * A Lambda task's Cause is the function's error as JSON, a CodeBuild task's is the whole Build:
 * a person wants the message, or the failed phase and where the log is.
 */
function causeMessage(cause: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(cause);
  } catch {
    return cause;
  }
  if (parsed && typeof parsed === "object") {
    if ("errorMessage" in parsed) return String(parsed.errorMessage);
    if ("Build" in parsed) return describeBuild(parsed.Build);
  }
  return cause;
}

const FailedBuildSchema = z.object({
  Id: z.string(),
  BuildStatus: z.string(),
  Phases: z._default(
    z.array(
      z.object({
        PhaseType: z.string(),
        PhaseStatus: z.optional(z.string()),
        Contexts: z.optional(z.array(z.object({ Message: z.optional(z.string()) }))),
      }),
    ),
    [],
  ),
  Logs: z.optional(z.object({ DeepLink: z.optional(z.string()) })),
});

function describeBuild(build: unknown): string {
  const parsed = FailedBuildSchema.safeParse(build);
  if (!parsed.success) return JSON.stringify(build);
  const { Id, BuildStatus, Phases, Logs } = parsed.data;
  const failed = Phases.find((p) => p.PhaseStatus && p.PhaseStatus !== "SUCCEEDED");
  const why = failed
    ? ` in phase ${failed.PhaseType}: ${failed.Contexts?.map((c) => c.Message).join("; ") ?? ""}`
    : "";
  const logs = Logs?.DeepLink ? ` (logs at ${Logs.DeepLink})` : "";
  return `build ${Id} ${BuildStatus}${why}${logs}`;
}
