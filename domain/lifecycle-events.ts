import { z } from "zod";
import { RevisionSchema } from "./revision";
import {
  ApprovalDecisionSchema,
  OperatorActionSchema,
  RunErrorSchema,
  RunStatusSchema,
  StageStatusSchema,
} from "./run";

/** Every event Sluice puts on its bus has this source, so one rule pattern catches them all. */
export const EVENT_SOURCE = "sluice";

export const RunEventDetailSchema = z.object({
  runId: z.string(),
  app: z.string(),
  status: RunStatusSchema,
  revision: RevisionSchema,
  at: z.string(),
  error: RunErrorSchema.optional(),
  /** 1, and one more for each retry of the run. */
  attempt: z.number().int().positive().optional(),
});

/** An operator stopped or retried the run: who, and why. */
export const RunActionDetailSchema = RunEventDetailSchema.extend({
  action: OperatorActionSchema,
});

export const StageEventDetailSchema = RunEventDetailSchema.extend({
  /** The plan step: `source`, `build`, or a stage of the pipeline definition. */
  stage: z.string(),
  stageStatus: StageStatusSchema,
  message: z.string().optional(),
  /** A wait stage's end. */
  until: z.string().optional(),
});

export const ApprovalEventDetailSchema = RunEventDetailSchema.extend({
  stage: z.string(),
  /** When an undecided approval times out. */
  expiresAt: z.string().optional(),
  decision: ApprovalDecisionSchema.optional(),
});

export const BundleRejectedDetailSchema = z.object({
  bucket: z.string(),
  key: z.string(),
  versionId: z.string().optional(),
  app: z.string().optional(),
  code: z.string(),
  reason: z.string(),
  at: z.string(),
});

/** detail-type → the schema of its detail; `events/schemas/` holds these as JSON Schema. */
export const LIFECYCLE_EVENTS = {
  "Run Queued": RunEventDetailSchema,
  "Run Started": RunEventDetailSchema,
  "Run Succeeded": RunEventDetailSchema,
  "Run Failed": RunEventDetailSchema,
  "Run Superseded": RunEventDetailSchema,
  "Run Stopped": RunActionDetailSchema,
  "Run Redriven": RunActionDetailSchema,
  "Stage Started": StageEventDetailSchema,
  "Stage Succeeded": StageEventDetailSchema,
  "Stage Failed": StageEventDetailSchema,
  "Stage Skipped": StageEventDetailSchema,
  "Approval Requested": ApprovalEventDetailSchema,
  "Approval Decided": ApprovalEventDetailSchema,
  "Bundle Rejected": BundleRejectedDetailSchema,
} as const;

/**
 * Every event's detail also carries `eventId`, the same on every delivery of that event: events
 * are published at least once, and a consumer de-duplicates on it.
 */
export const EVENT_ID_FIELD = "eventId";

export type LifecycleDetailType = keyof typeof LIFECYCLE_EVENTS;
export type LifecycleEvent = {
  [K in LifecycleDetailType]: { detailType: K; detail: z.infer<(typeof LIFECYCLE_EVENTS)[K]> };
}[LifecycleDetailType];
