import { z } from "zod";
import { ConflictError } from "./errors";
import type { LifecycleEvent } from "./lifecycle-events";
import {
  isTerminal,
  type RunError,
  type RunStatus,
  type RunView,
  StageNameSchema,
  type StageRecord,
} from "./run";

/** Step Functions hands a caught error over as `{ Error, Cause }`. */
const StatesErrorSchema = z
  .object({ Error: z.string(), Cause: z.string().optional() })
  .transform((e): RunError => ({ error: e.Error, cause: causeMessage(e.Cause ?? "") }));

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
  Phases: z
    .array(
      z.object({
        PhaseType: z.string(),
        PhaseStatus: z.string().optional(),
        Contexts: z.array(z.object({ Message: z.string().optional() })).optional(),
      }),
    )
    .default([]),
  Logs: z.object({ DeepLink: z.string().optional() }).optional(),
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

export const ProgressSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("RunStarted") }),
  z.object({ type: z.literal("RunSucceeded") }),
  z.object({ type: z.literal("RunFailed"), error: StatesErrorSchema }),
  z.object({ type: z.literal("StageStarted"), stage: StageNameSchema }),
  z.object({
    type: z.literal("StageSucceeded"),
    stage: StageNameSchema,
    message: z.string().optional(),
  }),
  z.object({ type: z.literal("StageFailed"), stage: StageNameSchema, error: StatesErrorSchema }),
  z.object({ type: z.literal("StageSkipped"), stage: StageNameSchema, reason: z.string() }),
]);
export type Progress = z.infer<typeof ProgressSchema>;

export interface RunChange {
  /** The write only applies while the stored run still has one of these statuses. */
  expectedStatus: readonly RunStatus[];
  status: RunStatus;
  startedAt?: string;
  endedAt?: string;
  error?: RunError;
}

export interface ProgressPlan {
  run?: RunChange;
  stage?: StageRecord;
  event: LifecycleEvent;
}

/**
 * Decides what one step of a pipeline does to a run: the new run status, the stage record,
 * and the lifecycle event to emit. A step repeated by a Step Functions retry plans the same
 * writes again, so recording progress is safe to retry.
 */
export function planProgress(run: RunView, progress: Progress, now: string): ProgressPlan {
  const base = { runId: run.id, app: run.app, revision: run.revision, at: now };
  switch (progress.type) {
    case "RunStarted": {
      requireStatus(run, ["QUEUED", "RUNNING"], "start");
      return {
        run: {
          expectedStatus: ["QUEUED", "RUNNING"],
          status: "RUNNING",
          startedAt: run.startedAt ?? now,
        },
        event: { detailType: "Run Started", detail: { ...base, status: "RUNNING" } },
      };
    }
    case "RunSucceeded": {
      requireStatus(run, ["RUNNING"], "finish");
      return {
        run: { expectedStatus: ["RUNNING"], status: "SUCCEEDED", endedAt: now },
        event: { detailType: "Run Succeeded", detail: { ...base, status: "SUCCEEDED" } },
      };
    }
    case "RunFailed": {
      requireStatus(run, ["QUEUED", "RUNNING"], "fail");
      return {
        run: {
          expectedStatus: ["QUEUED", "RUNNING"],
          status: "FAILED",
          endedAt: now,
          error: progress.error,
        },
        event: {
          detailType: "Run Failed",
          detail: { ...base, status: "FAILED", error: progress.error },
        },
      };
    }
    case "StageStarted": {
      requireStatus(run, ["RUNNING"], `start stage ${progress.stage} of`);
      const stage: StageRecord = { name: progress.stage, status: "RUNNING", startedAt: now };
      return {
        stage,
        event: {
          detailType: "Stage Started",
          detail: { ...base, status: run.status, stage: stage.name, stageStatus: stage.status },
        },
      };
    }
    case "StageSucceeded":
    case "StageFailed": {
      requireStatus(run, ["RUNNING"], `end stage ${progress.stage} of`);
      const succeeded = progress.type === "StageSucceeded";
      const started = run.stages.find((s) => s.name === progress.stage);
      // A stage can fail while it is being prepared, before it ever started; it cannot succeed so.
      if (!started && succeeded) {
        throw new ConflictError(`stage ${progress.stage} of run ${run.id} never started`);
      }
      const message = succeeded
        ? progress.message
        : `${progress.error.error}: ${progress.error.cause}`;
      const stage: StageRecord = {
        name: progress.stage,
        status: succeeded ? "SUCCEEDED" : "FAILED",
        startedAt: started?.startedAt ?? now,
        endedAt: now,
        ...(message ? { message } : {}),
      };
      return {
        stage,
        event: {
          detailType: succeeded ? "Stage Succeeded" : "Stage Failed",
          detail: {
            ...base,
            status: run.status,
            stage: stage.name,
            stageStatus: stage.status,
            ...(message ? { message } : {}),
          },
        },
      };
    }
    case "StageSkipped": {
      requireStatus(run, ["RUNNING"], `skip stage ${progress.stage} of`);
      const stage: StageRecord = {
        name: progress.stage,
        status: "SKIPPED",
        startedAt: now,
        endedAt: now,
        message: progress.reason,
      };
      return {
        stage,
        event: {
          detailType: "Stage Skipped",
          detail: {
            ...base,
            status: run.status,
            stage: stage.name,
            stageStatus: stage.status,
            message: progress.reason,
          },
        },
      };
    }
  }
}

function requireStatus(run: RunView, allowed: readonly RunStatus[], action: string): void {
  if (!allowed.includes(run.status)) {
    const why = isTerminal(run.status) ? "it already ended" : "it is not running";
    throw new ConflictError(`cannot ${action} run ${run.id}: ${why} (status ${run.status})`);
  }
}
