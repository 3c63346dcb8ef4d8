import { monotonicFactory } from "ulid";
import { z } from "zod";
import { AppNameSchema } from "./app";
import { RevisionSchema } from "./revision";

export const RunIdSchema = z
  .string()
  .regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, "run ids are 26-character ULIDs");

const monotonicUlid = monotonicFactory();

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
  "CANCELLED",
  "ROLLED_BACK",
]);
export type RunStatus = z.infer<typeof RunStatusSchema>;

export const TERMINAL_RUN_STATUSES: ReadonlySet<RunStatus> = new Set([
  "SUCCEEDED",
  "FAILED",
  "SUPERSEDED",
  "CANCELLED",
  "ROLLED_BACK",
]);

export const StageNameSchema = z.enum([
  "source",
  "build",
  "beta",
  "gamma",
  "approval",
  "production",
]);

export const StageStatusSchema = z.enum(["RUNNING", "SUCCEEDED", "FAILED", "SKIPPED"]);

export const StageRecordSchema = z.object({
  name: StageNameSchema,
  status: StageStatusSchema,
  startedAt: z.string(),
  endedAt: z.string().optional(),
  message: z.string().optional(),
});
export type StageRecord = z.infer<typeof StageRecordSchema>;

export const RunTriggerSchema = z.object({
  type: z.enum(["api", "webhook", "upload"]),
  /** Who or what asked for the run: a user name, a git author, an uploader. */
  by: z.string().optional(),
  reason: z.string().max(500).optional(),
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
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  executionArn: z.string().optional(),
  error: RunErrorSchema.optional(),
});
export type Run = z.infer<typeof RunSchema>;

/** A run as shown to users: the record and its stage history in pipeline order. */
export type RunView = Run & { stages: StageRecord[] };

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_RUN_STATUSES.has(status);
}
