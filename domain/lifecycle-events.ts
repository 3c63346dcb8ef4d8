import { BlockerSchema, FreezeSchema, OverrideSchema } from "./holds";
import { RevisionSchema } from "./revision";
import {
  ApprovalDecisionSchema,
  ApprovalRefusalSchema,
  ApprovalVoteSchema,
  OperatorActionSchema,
  RunErrorSchema,
  RunKindSchema,
  RunStatusSchema,
  StageStatusSchema,
} from "./run";
import * as z from "./zod";

/** Every event Sluice puts on its bus has this source, so one rule pattern catches them all. */
export const EVENT_SOURCE = "sluice";

export const RunEventDetailSchema = z.object({
  runId: z.string(),
  app: z.string(),
  status: RunStatusSchema,
  revision: RevisionSchema,
  at: z.string(),
  error: z.optional(RunErrorSchema),
  /** 1, and one more for each retry of the run. */
  attempt: z.optional(z.number().check(z.int(), z.positive())),
  /** `rollback` for a rollback to a named release; a release otherwise. */
  kind: z.optional(RunKindSchema),
});

/** An operator stopped or retried the run: who, and why. */
export const RunActionDetailSchema = z.extend(RunEventDetailSchema, {
  action: OperatorActionSchema,
});

export const StageEventDetailSchema = z.extend(RunEventDetailSchema, {
  /** The plan step: `source`, `build`, or a stage of the pipeline definition. */
  stage: z.string(),
  stageStatus: StageStatusSchema,
  message: z.optional(z.string()),
  /** A wait stage's end. */
  until: z.optional(z.string()),
});

export const ApprovalEventDetailSchema = z.extend(RunEventDetailSchema, {
  stage: z.string(),
  /** When an undecided approval times out. */
  expiresAt: z.optional(z.string()),
  /** The decision that settled it (Approval Decided). */
  decision: z.optional(ApprovalDecisionSchema),
  /** A vote that did not settle it yet (Approval Voted). */
  vote: z.optional(ApprovalVoteSchema),
  /** A decision that did not count, and why (Approval Refused). */
  refusal: z.optional(ApprovalRefusalSchema),
  /** Distinct approvers who approved so far, of how many are required. */
  approvals: z.optional(z.number().check(z.int(), z.nonnegative())),
  requiredApprovals: z.optional(z.number().check(z.int(), z.positive())),
  /** How many personal links the request carried (Approval Requested). */
  links: z.optional(z.number().check(z.int(), z.nonnegative())),
});

/** A production wave: which, of how many, where it deploys and how. */
export const WaveEventDetailSchema = z.extend(RunEventDetailSchema, {
  /** The production stage. */
  stage: z.string(),
  /** The wave's plan step, `<stage>/<wave>`. */
  wave: z.string(),
  waveNumber: z.number().check(z.int(), z.positive()),
  waves: z.number().check(z.int(), z.positive()),
  deploymentGroup: z.string(),
  deploymentConfig: z.string(),
  /** Wave Baking: how long it bakes, and until when. */
  bakeSeconds: z.optional(z.number().check(z.int(), z.nonnegative())),
  until: z.optional(z.string()),
});

export const BundleRejectedDetailSchema = z.object({
  bucket: z.string(),
  key: z.string(),
  versionId: z.optional(z.string()),
  app: z.optional(z.string()),
  code: z.string(),
  reason: z.string(),
  at: z.string(),
  /** Set by the publisher itself: no outbox numbers these. */
  eventId: z.string(),
});

/** A wave waits to deploy: what holds it, and when it can go at the earliest, if known. */
export const WaveHeldDetailSchema = z.extend(RunEventDetailSchema, {
  stage: z.string(),
  blockers: z.array(BlockerSchema),
  until: z.optional(z.string()),
});

/** An operator let a held wave go, or cut a bake short: who, why, when and what. */
export const WaveOverriddenDetailSchema = z.extend(RunEventDetailSchema, {
  stage: z.string(),
  override: OverrideSchema,
});

/** An app's production was frozen, or its freeze lifted (who lifted it and why, then). */
export const FreezeDetailSchema = z.extend(FreezeSchema, {
  liftedBy: z.optional(z.string()),
  liftReason: z.optional(z.string()),
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
  /**
   * A failed run going back over what it deployed (`error` says why), or a rollback to a named
   * release starting (`requested` says who asked for it, and to which version).
   */
  "Rollback Started": z.extend(RunEventDetailSchema, {
    stages: z.array(z.string()),
    requested: z.optional(
      z.object({
        version: z.string(),
        by: z.optional(z.string()),
        reason: z.optional(z.string()),
        bake: z.boolean(),
      }),
    ),
  }),
  /** Every group went back (`rollbacks`: how each did, newest first); `error` is what failed. */
  "Run Rolled Back": z.extend(RunEventDetailSchema, {
    rollbacks: z.optional(
      z.array(
        z.object({
          stage: z.string(),
          status: z.enum(["SUCCEEDED", "SKIPPED"]),
          message: z.string(),
          deploymentId: z.optional(z.string()),
        }),
      ),
    ),
  }),
  "Approval Voted": ApprovalEventDetailSchema,
  "Approval Decided": ApprovalEventDetailSchema,
  "Approval Refused": ApprovalEventDetailSchema,
  "Approval Timed Out": ApprovalEventDetailSchema,
  "Bundle Rejected": BundleRejectedDetailSchema,
  /** A wave's deployment began. */
  "Wave Started": WaveEventDetailSchema,
  /** A wave deployed; its alarms are watched until `until`. */
  "Wave Baking": WaveEventDetailSchema,
  /** A wave deployed and baked (or has no bake). */
  "Wave Succeeded": WaveEventDetailSchema,
  "Wave Held": WaveHeldDetailSchema,
  "Wave Overridden": WaveOverriddenDetailSchema,
  "App Frozen": FreezeDetailSchema,
  "App Unfrozen": FreezeDetailSchema,
} as const;

/**
 * Every event's detail also carries `eventId`, the same on every delivery of that event: events
 * are published at least once, and a consumer de-duplicates on it.
 */
export const EVENT_ID_FIELD = "eventId";

/**
 * A run's events also carry `sequence`: 1 for its first event (Run Queued), one more for each
 * event after, with no gaps, numbered in the transaction that writes them. A consumer orders a
 * run's events by it and knows from a gap that an event is still to come. Events of no run
 * (Bundle Rejected) have none; they are ordered by `at`, then by `eventId` (a ULID).
 */
export const EVENT_SEQUENCE_FIELD = "sequence";

export type LifecycleDetailType = keyof typeof LIFECYCLE_EVENTS;
export type LifecycleEvent = {
  [K in LifecycleDetailType]: { detailType: K; detail: z.infer<(typeof LIFECYCLE_EVENTS)[K]> };
}[LifecycleDetailType];
