import { z } from "zod";
import { RevisionSchema } from "./revision";
import { RunErrorSchema, RunStatusSchema, StageNameSchema, StageStatusSchema } from "./run";

/** Every event Sluice puts on its bus has this source, so one rule pattern catches them all. */
export const EVENT_SOURCE = "sluice";

export const RunEventDetailSchema = z.object({
  runId: z.string(),
  app: z.string(),
  status: RunStatusSchema,
  revision: RevisionSchema,
  at: z.string(),
  error: RunErrorSchema.optional(),
});

export const StageEventDetailSchema = RunEventDetailSchema.extend({
  stage: StageNameSchema,
  stageStatus: StageStatusSchema,
  message: z.string().optional(),
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
  "Run Cancelled": RunEventDetailSchema,
  "Stage Started": StageEventDetailSchema,
  "Stage Succeeded": StageEventDetailSchema,
  "Stage Failed": StageEventDetailSchema,
  "Stage Skipped": StageEventDetailSchema,
  "Bundle Rejected": BundleRejectedDetailSchema,
} as const;

export type LifecycleDetailType = keyof typeof LIFECYCLE_EVENTS;
export type LifecycleEvent = {
  [K in LifecycleDetailType]: { detailType: K; detail: z.infer<(typeof LIFECYCLE_EVENTS)[K]> };
}[LifecycleDetailType];
