import { AppNameSchema, ExecutionModeSchema } from "./app";
import { type Hold, HoldSchema, type Override, OverrideSchema } from "./holds";
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

/** Through which proof a decision came: a personal link, Slack's signed click, or the API. */
export const DecisionViaSchema = z.enum(["link", "slack", "api", "oidc"]);

/** One approver's vote on an approval; the vote that settles it is also the step's `approval`. */
export const ApprovalVoteSchema = z.object({
  ...ApprovalDecisionSchema.shape,
  via: DecisionViaSchema,
  /** The approver's place in the plan's approvers; absent when the approval lists none. */
  approver: z.optional(z.number().check(z.int(), z.nonnegative())),
});
export type ApprovalVote = z.infer<typeof ApprovalVoteSchema>;

/** A decision the gate refused: who tried, and why it did not count. */
export const ApprovalRefusalSchema = z.object({
  decision: z.enum(["approve", "reject"]),
  by: z.string(),
  via: DecisionViaSchema,
  reason: z.string(),
  at: z.string(),
});
export type ApprovalRefusal = z.infer<typeof ApprovalRefusalSchema>;

/**
 * The request an approval attempt sent. Each issue of links has its own generation: only the
 * links of the step's current generation work, so issuing again revokes the ones before.
 */
export const ApprovalRequestRecordSchema = z.object({
  generation: z.number().check(z.int(), z.positive()),
  issuedAt: z.string(),
  /** When the notifier took the request; absent while it has not (yet). */
  sentAt: z.optional(z.string()),
  links: z.number().check(z.int(), z.nonnegative()),
  expiresAt: z.string(),
});
export type ApprovalRequestRecord = z.infer<typeof ApprovalRequestRecordSchema>;

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
  /** A wait step's end; a held wave's earliest start. */
  until: z.optional(z.string()),
  /** What holds a wave that waits to deploy. */
  hold: z.optional(HoldSchema),
  /** Operators' overrides of this attempt's hold or bake, oldest first. */
  overrides: z.optional(z.array(OverrideSchema)),
  approval: z.optional(ApprovalDecisionSchema),
  /** An approval step's votes, refusals and request, each kept as it happened. */
  votes: z.optional(z.array(ApprovalVoteSchema)),
  refusals: z.optional(z.array(ApprovalRefusalSchema)),
  request: z.optional(ApprovalRequestRecordSchema),
  /**
   * Counts the changes to the step record that are guarded against each other (an approval's
   * votes): such a change is written only if the record is still at the version it read.
   */
  version: z.optional(z.number().check(z.int(), z.nonnegative())),
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
  hold?: Hold;
  overrides?: Override[];
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

/**
 * What a run is: a release goes through the whole pipeline; a rollback to a named release goes
 * through the production waves only (see RunPolicy in plan.ts).
 */
export const RunKindSchema = z.enum(["release", "rollback"]);
export type RunKind = z.infer<typeof RunKindSchema>;

export const RunTriggerSchema = z.object({
  type: z.enum(["api", "webhook", "upload"]),
  /** Who or what asked for the run: a user name, a git author, an uploader. */
  by: z.optional(z.string()),
  /**
   * For a run asked for through the API: the identity that signed the request, as the API
   * verified it (the IAM principal; locally the CLI's OS user), whatever `by` says.
   */
  actor: z.optional(z.string()),
  reason: z.optional(z.string().check(z.maxLength(500))),
});
export type RunTrigger = z.infer<typeof RunTriggerSchema>;

/** The most of a commit message a run keeps: git hosts send messages of any length. */
export const MAX_CHANGE_MESSAGE_LENGTH = 4096;
/** The most of an author's name, email or username a run keeps. */
export const MAX_CHANGE_AUTHOR_FIELD_LENGTH = 256;

const authorField = z.string().check(z.minLength(1), z.maxLength(MAX_CHANGE_AUTHOR_FIELD_LENGTH));

/**
 * The change a run deploys, as its author wrote it: what an approval request shows, and whom
 * `forbidSelfApproval` keeps from approving it. Each field is there when the intake knew it.
 */
export const RunChangeSchema = z.strictObject({
  /** The whole commit message, cut at MAX_CHANGE_MESSAGE_LENGTH characters. */
  message: z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_CHANGE_MESSAGE_LENGTH))),
  author: z.optional(
    z.strictObject({
      name: z.optional(authorField),
      email: z.optional(authorField),
      /** The author's account on the git host. */
      username: z.optional(authorField),
    }),
  ),
  /**
   * When the change was committed, where the intake was told (a push's head commit): where
   * its lead time to production starts (docs/metrics.md).
   */
  committedAt: z.optional(z.iso.datetime({ offset: true })),
});
export type RunChange = z.infer<typeof RunChangeSchema>;

/** What an intake read about a change, before it is bounded to what a run keeps. */
export interface ChangeFacts {
  message?: string | undefined;
  name?: string | undefined;
  email?: string | undefined;
  username?: string | undefined;
  /** ISO 8601; anything else is left out. */
  committedAt?: string | undefined;
}

/**
 * The change as a run keeps it: values trimmed and cut to their limits, empty ones left out;
 * undefined when nothing is left. Intakes cut rather than refuse: a push or an upload is never
 * turned away for a long commit message.
 */
export function runChangeOf(facts: ChangeFacts): RunChange | undefined {
  const message = bounded(facts.message?.trimEnd(), MAX_CHANGE_MESSAGE_LENGTH);
  const author = {
    ...present("name", bounded(facts.name?.trim(), MAX_CHANGE_AUTHOR_FIELD_LENGTH)),
    ...present("email", bounded(facts.email?.trim(), MAX_CHANGE_AUTHOR_FIELD_LENGTH)),
    ...present("username", bounded(facts.username?.trim(), MAX_CHANGE_AUTHOR_FIELD_LENGTH)),
  };
  const committedAt = RunChangeSchema.shape.committedAt.safeParse(facts.committedAt).data;
  const change: RunChange = {
    ...present("message", message),
    ...(Object.keys(author).length > 0 ? { author } : {}),
    ...present("committedAt", committedAt),
  };
  return Object.keys(change).length > 0 ? change : undefined;
}

/** `text` cut to at most `max` UTF-16 units, never between the two halves of a surrogate pair. */
function bounded(text: string | undefined, max: number): string | undefined {
  if (text === undefined || text === "") return undefined;
  if (text.length <= max) return text;
  const end = isHighSurrogate(text.charCodeAt(max - 1)) ? max - 1 : max;
  return text.slice(0, end);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function present<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

export const RunErrorSchema = z.object({
  error: z.string(),
  cause: z.string(),
  /** The rule behind a refusal, e.g. APPROVAL_REJECTED or APPROVAL_TIMED_OUT. */
  code: z.optional(z.string()),
});
export type RunError = z.infer<typeof RunErrorSchema>;

export const RunSchema = z.object({
  id: RunIdSchema,
  app: AppNameSchema,
  status: RunStatusSchema,
  revision: RevisionSchema,
  trigger: RunTriggerSchema,
  /** Absent on runs recorded before kinds were kept: they are releases. */
  kind: z.optional(RunKindSchema),
  /** The commit message and author of what the run deploys, where its intake knew them. */
  change: z.optional(RunChangeSchema),
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
  /** The sequence number of the run's latest lifecycle event (0 before its first). */
  sequence: z.optional(z.number().check(z.int(), z.nonnegative())),
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
      ...(s.hold ? { hold: s.hold } : {}),
      ...(s.overrides ? { overrides: s.overrides } : {}),
      ...(s.rollback ? { rollback: s.rollback } : {}),
    }));
}

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_RUN_STATUSES.has(status);
}
