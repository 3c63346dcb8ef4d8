import { AppNameSchema, ExecutionModeSchema } from "./app";
import { PlanSchema } from "./plan";
import { BundleRevisionSchema, RevisionSchema } from "./revision";
import { monotonicUlids } from "./ulids";
import * as z from "./zod";

export const RunIdSchema = z
  .string()
  .check(z.regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, "run ids are 26-character ULIDs"));

const monotonicUlid = monotonicUlids();

/**
 * A new run id. Ids sort in the order their runs were made, also within one millisecond, so a
 * queue ordered by creation time and id keeps arrival order.
 */
export function newRunId(at: Date): string {
  return monotonicUlid(at.getTime());
}

export const RunStatusSchema = z.enum([
  "QUEUED",
  "RUNNING",
  "SUCCEEDED",
  "FAILED",
  "SUPERSEDED",
  "STOPPED",
  "ROLLED_BACK",
]);
export type RunStatus = z.infer<typeof RunStatusSchema>;

export const TERMINAL_RUN_STATUSES: ReadonlySet<RunStatus> = new Set([
  "SUCCEEDED",
  "FAILED",
  "SUPERSEDED",
  "STOPPED",
  "ROLLED_BACK",
]);

export const StageStatusSchema = z.enum(["RUNNING", "SUCCEEDED", "FAILED", "SKIPPED", "STOPPED"]);
export type StageStatus = z.infer<typeof StageStatusSchema>;

export const ApprovalDecisionSchema = z.object({
  decision: z.enum(["approve", "reject"]),
  by: z.string(),
  comment: z.optional(z.string()),
  at: z.string(),
});
export type ApprovalDecision = z.infer<typeof ApprovalDecisionSchema>;

/** One host of a deployment and how its part of the deployment ended. */
export const HostResultSchema = z.object({
  id: z.string(),
  status: z.string(),
  /** The lifecycle event it failed in, and why. */
  failure: z.optional(z.string()),
});

export type HostResult = z.infer<typeof HostResultSchema>;

/** A deploy step's CodeDeploy deployment, as it ended. */
export const DeploymentResultSchema = z.object({
  deploymentId: z.string(),
  deploymentGroup: z.string(),
  status: z.string(),
  hosts: z.array(HostResultSchema),
});
export type DeploymentResult = z.infer<typeof DeploymentResultSchema>;

/**
 * What one attempt at one plan step did. A step run again (a retry of the run) gets a record of
 * its own, so every attempt shows.
 */
export const StepRecordSchema = z.object({
  step: z.string(),
  kind: z.string(),
  index: z.number().check(z.int(), z.nonnegative()),
  attempt: z.number().check(z.int(), z.positive()),
  status: StageStatusSchema,
  startedAt: z.string(),
  endedAt: z.optional(z.string()),
  message: z.optional(z.string()),
  /** A wait step's end. */
  until: z.optional(z.string()),
  approval: z.optional(ApprovalDecisionSchema),
  /** A deploy step's deployment, from when it is created. */
  deploymentId: z.optional(z.string()),
  deployment: z.optional(DeploymentResultSchema),
  /** What the group ran before this step deployed to it: what a rollback goes back to. */
  previousRevision: z.optional(BundleRevisionSchema),
  /** The rollback of what this deploy step did. */
  rollback: z.optional(
    z.object({
      status: z.enum(["RUNNING", "SUCCEEDED", "SKIPPED"]),
      message: z.string(),
      deploymentId: z.optional(z.string()),
    }),
  ),
});
export type StepRecord = z.infer<typeof StepRecordSchema>;

/** A stage as users see it: the latest attempt at one plan step. */
export interface StageRecord {
  name: string;
  status: z.infer<typeof StageStatusSchema>;
  attempt: number;
  startedAt: string;
  endedAt?: string;
  message?: string;
  until?: string;
  /** How its deployment was rolled back, when the run rolled back. */
  rollback?: StepRecord["rollback"];
}

/** Who asked for an operator's action on a run, and why. */
export const OperatorActionSchema = z.object({
  by: z.string(),
  reason: z.optional(z.string()),
  at: z.string(),
});
export type OperatorAction = z.infer<typeof OperatorActionSchema>;

export const RunTriggerSchema = z.object({
  type: z.enum(["api", "webhook", "upload"]),
  /** Who or what asked for the run: a user name, a git author, an uploader. */
  by: z.optional(z.string()),
  reason: z.optional(z.string().check(z.maxLength(500))),
});
export type RunTrigger = z.infer<typeof RunTriggerSchema>;

export const RunErrorSchema = z.object({ error: z.string(), cause: z.string() });
export type RunError = z.infer<typeof RunErrorSchema>;

export const RunSchema = z.object({
  id: RunIdSchema,
  app: AppNameSchema,
  status: RunStatusSchema,
  revision: RevisionSchema,
  trigger: RunTriggerSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
  startedAt: z.optional(z.string()),
  endedAt: z.optional(z.string()),
  executionArn: z.optional(z.string()),
  error: z.optional(RunErrorSchema),
  plan: PlanSchema,
  /**
   * The app's execution mode when the run was recorded, which its admission follows. Runs
   * recorded before it was kept were admitted as they were recorded.
   */
  executionMode: z.optional(ExecutionModeSchema),
  /** Index of the plan step the run is in; -1 before its first. */
  cursor: z._default(z.number().check(z.int(), z.gte(-1)), -1),
  /** 1, and one more for each retry. */
  attempt: z._default(z.number().check(z.int(), z.positive()), 1),
  stopRequest: z.optional(OperatorActionSchema),
  /** A run rolling back: why, and the deploy steps it goes back over, newest first. */
  rollback: z.optional(
    z.object({
      cause: RunErrorSchema,
      targets: z.array(z.number().check(z.int())),
      position: z.number().check(z.int()),
    }),
  ),
  retries: z._default(
    z.array(z.extend(OperatorActionSchema, { attempt: z.number().check(z.int()) })),
    [],
  ),
});
export type Run = z.infer<typeof RunSchema>;

/**
 * A run as shown to users: the record, its stages (the latest attempt at each plan step, in plan
 * order) and every step attempt.
 */
export type RunView = Run & { stages: StageRecord[]; steps: StepRecord[] };

/** The stages a person reads: the latest attempt at each step, in plan order. */
export function stagesOf(steps: readonly StepRecord[]): StageRecord[] {
  const latest = new Map<number, StepRecord>();
  for (const step of steps) {
    const seen = latest.get(step.index);
    if (!seen || seen.attempt < step.attempt) latest.set(step.index, step);
  }
  return [...latest.values()]
    .sort((a, b) => a.index - b.index)
    .map((s) => ({
      name: s.step,
      status: s.status,
      attempt: s.attempt,
      startedAt: s.startedAt,
      ...(s.endedAt ? { endedAt: s.endedAt } : {}),
      ...(s.message ? { message: s.message } : {}),
      ...(s.until ? { until: s.until } : {}),
      ...(s.rollback ? { rollback: s.rollback } : {}),
    }));
}

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_RUN_STATUSES.has(status);
}
