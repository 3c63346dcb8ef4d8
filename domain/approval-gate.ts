import type { ApprovalEvidence, DecidedBy } from "./approval-request";
import { ConflictError } from "./errors";
import type { LifecycleEvent } from "./lifecycle-events";
import type { PlanStep } from "./plan";
import type {
  ApprovalDecision,
  ApprovalRefusal,
  ApprovalRequestRecord,
  ApprovalVote,
  RunError,
  RunView,
  StepRecord,
} from "./run";
import { endTransition, openStep, type RunTransition, runDetail } from "./steps";

/**
 * The approval gate's rules, with no I/O: who may decide, how votes add up to a decision, and
 * what each vote, refusal, request and timeout writes to the run.
 */

export type ApprovalStep = Extract<PlanStep, { kind: "approval" }>;
export type Decision = "approve" | "reject";

/** What a decision came to, as a channel shows it to the person who made it. */
export interface DecisionOutcome {
  /** `recorded`: the vote counts, and more approvals are needed. */
  outcome: "recorded" | "approved" | "rejected";
  /** Who decided, as recorded: the approver's email when known, else their proof. */
  by: string;
  /** Distinct approvers who have approved, this vote included. */
  approvals: number;
  required: number;
}

/** The error codes a gate's end gives the run. */
export const APPROVAL_REJECTED = "APPROVAL_REJECTED";
export const APPROVAL_TIMED_OUT = "APPROVAL_TIMED_OUT";

/** The approval the run waits in now, or a ConflictError saying it waits in none. */
export function waitingApproval(run: RunView): { step: ApprovalStep; record: StepRecord } {
  const record = openStep(run);
  const step = run.plan.steps[run.cursor];
  if (
    run.status !== "RUNNING" ||
    step?.kind !== "approval" ||
    record?.kind !== "approval" ||
    record.status !== "RUNNING"
  ) {
    throw new ConflictError(`run ${run.id} is not waiting for an approval`);
  }
  return { step, record };
}

/** Who the decider is to this approval: an approver (by place) and a name, or why not. */
export function identify(
  step: ApprovalStep,
  by: DecidedBy,
): { approver?: number; name: string } | { refused: string } {
  const proof = proofOf(by);
  if (step.approvers.length === 0) {
    // Without approvers there is nobody to send a link to; the API's IAM and Slack decide who.
    if (by.via === "link") return { refused: "this approval has no approvers to send links to" };
    return { name: proof };
  }
  const i = step.approvers.findIndex((a) => matches(a, by));
  const approver = step.approvers[i];
  if (!approver) return { refused: `${proof} is not an approver of stage ${step.id}` };
  return { approver: i, name: approver.email ?? proof };
}

function proofOf(by: DecidedBy): string {
  switch (by.via) {
    case "link":
      return by.email;
    case "slack":
      return `slack:${by.slack}`;
    case "api":
      return by.principal;
    case "oidc":
      return by.email ?? `oidc:${by.sub}`;
  }
}

function matches(approver: ApprovalStep["approvers"][number], by: DecidedBy): boolean {
  switch (by.via) {
    case "link":
      return approver.email?.toLowerCase() === by.email.toLowerCase();
    case "slack":
      return approver.slack === by.slack;
    case "api":
      return approver.iam === by.principal;
    // A person is an approver by the email their provider vouches for, never by an IAM ARN.
    case "oidc":
      return by.email !== undefined && approver.email?.toLowerCase() === by.email.toLowerCase();
  }
}

/**
 * Whether the decider wrote the change: their email, Slack id or principal (and those of the
 * approver they are) against the change's author and whoever asked for the run.
 */
export function isAuthor(run: RunView, step: ApprovalStep, by: DecidedBy, approver?: number) {
  const author = run.change?.author;
  const authors = new Set(
    [author?.email, author?.username, run.trigger.by]
      .filter((a): a is string => Boolean(a))
      .map((a) => a.toLowerCase()),
  );
  const listed = approver === undefined ? undefined : step.approvers[approver];
  const decider = [proofOf(by), listed?.email, listed?.iam, listed?.slack];
  return decider.some((d) => d !== undefined && authors.has(d.toLowerCase()));
}

export interface Ballot {
  decision: Decision;
  by: DecidedBy;
  comment?: string;
  at: string;
}

/** What a ballot does to the approval: the write, and what to tell (and resume) after it. */
export type BallotResult =
  | { kind: "refused"; reason: string; transition: RunTransition }
  | {
      kind: "counted";
      outcome: DecisionOutcome;
      transition: RunTransition;
      /** The decision that settles the approval, which resumes the run's task. */
      final?: ApprovalDecision;
    };

/**
 * Casts a ballot on the approval the run waits in. A ballot the rules refuse is recorded as a
 * refusal and counts for nothing. Otherwise the vote is recorded; one rejection rejects, and
 * `requiredApprovals` distinct approvers approve (the same approver twice counts once).
 */
export function castBallot(run: RunView, ballot: Ballot): BallotResult {
  const { step, record } = waitingApproval(run);
  if (record.approval) {
    throw new ConflictError(
      `the approval of run ${run.id} was already decided by ${record.approval.by}`,
    );
  }
  const who = identify(step, ballot.by);
  const name = "name" in who ? who.name : proofOf(ballot.by);
  const approver = "approver" in who ? who.approver : undefined;
  const reason =
    "refused" in who
      ? who.refused
      : ballot.decision === "approve" &&
          step.forbidSelfApproval &&
          isAuthor(run, step, ballot.by, approver)
        ? `${name} wrote this change, and stage ${step.id} forbids approving one's own change`
        : undefined;
  const counted = approvalsOf(record.votes ?? []);
  if (reason) {
    const refusal: ApprovalRefusal = {
      decision: ballot.decision,
      by: name,
      via: ballot.by.via,
      reason,
      at: ballot.at,
    };
    const refused: StepRecord = {
      ...record,
      refusals: [...(record.refusals ?? []), refusal],
      version: (record.version ?? 0) + 1,
    };
    return {
      kind: "refused",
      reason,
      transition: guarded(run, record, refused, {
        detailType: "Approval Refused",
        detail: {
          ...runDetail(run, "RUNNING", ballot.at),
          stage: step.id,
          refusal,
          approvals: counted,
          requiredApprovals: step.requiredApprovals,
        },
      }),
    };
  }
  const vote: ApprovalVote = {
    decision: ballot.decision,
    by: name,
    via: ballot.by.via,
    at: ballot.at,
    ...(ballot.comment ? { comment: ballot.comment } : {}),
    ...(approver === undefined ? {} : { approver }),
  };
  const votes = [...(record.votes ?? []), vote];
  const approvals = approvalsOf(votes);
  const settles = ballot.decision === "reject" || approvals >= step.requiredApprovals;
  const final: ApprovalDecision | undefined = settles
    ? {
        decision: ballot.decision,
        by: name,
        at: ballot.at,
        ...(ballot.comment ? { comment: ballot.comment } : {}),
      }
    : undefined;
  const voted: StepRecord = {
    ...record,
    votes,
    ...(final ? { approval: final } : {}),
    version: (record.version ?? 0) + 1,
  };
  const detail = {
    ...runDetail(run, "RUNNING", ballot.at),
    stage: step.id,
    approvals,
    requiredApprovals: step.requiredApprovals,
  };
  const event: LifecycleEvent = final
    ? { detailType: "Approval Decided", detail: { ...detail, decision: final, vote } }
    : { detailType: "Approval Voted", detail: { ...detail, vote } };
  return {
    kind: "counted",
    outcome: {
      outcome: !final ? "recorded" : final.decision === "approve" ? "approved" : "rejected",
      by: name,
      approvals,
      required: step.requiredApprovals,
    },
    transition: guarded(run, record, voted, event),
    ...(final ? { final } : {}),
  };
}

/** Distinct approvers among the approving votes: by their place, or by name without a list. */
export function approvalsOf(votes: readonly ApprovalVote[]): number {
  const approving = votes.filter((v) => v.decision === "approve");
  return new Set(approving.map((v) => (v.approver === undefined ? `by:${v.by}` : v.approver))).size;
}

/**
 * A new issue of the approval's links: the generation goes up, so every link issued before
 * stops working the moment this is written.
 */
export function requestIssued(
  run: RunView,
  record: StepRecord,
  request: Omit<ApprovalRequestRecord, "generation" | "sentAt">,
): { transition: RunTransition; record: StepRecord } {
  const issued: StepRecord = {
    ...record,
    request: { ...request, generation: (record.request?.generation ?? 0) + 1 },
    version: (record.version ?? 0) + 1,
  };
  return { record: issued, transition: guarded(run, record, issued) };
}

/** The notifier took the request: recorded on the step and announced as Approval Requested. */
export function requestSent(
  run: RunView,
  step: ApprovalStep,
  record: StepRecord,
  at: string,
): RunTransition {
  if (!record.request) throw new Error("a request is sent only once it is issued");
  const sent: StepRecord = {
    ...record,
    request: { ...record.request, sentAt: at },
    version: (record.version ?? 0) + 1,
  };
  return guarded(run, record, sent, {
    detailType: "Approval Requested",
    detail: {
      ...runDetail(run, "RUNNING", at),
      stage: step.id,
      expiresAt: record.request.expiresAt,
      links: record.request.links,
      approvals: approvalsOf(record.votes ?? []),
      requiredApprovals: step.requiredApprovals,
    },
  });
}

/** When the approval attempt stops taking decisions: its timeout, counted from its start. */
export function approvalExpiresAt(step: ApprovalStep, record: StepRecord): string {
  return new Date(Date.parse(record.startedAt) + step.timeoutSeconds * 1000).toISOString();
}

/** What the approver reads of what the run did before the approval. */
export function evidenceOf(run: RunView, index: number): ApprovalEvidence[] {
  return run.stages
    .filter((stage) => run.plan.steps.findIndex((s) => s.id === stage.name) < index)
    .map((stage) => ({
      stage: stage.name,
      status: stage.status,
      ...(stage.message ? { message: stage.message } : {}),
    }));
}

/**
 * A run whose pipeline failed while it waited in an approval ends rejected: by a decision
 * (Sluice.Rejected) or by its timeout (States.Timeout, recorded as Approval Timed Out).
 * Undefined for any other end, which endTransition records as it comes.
 */
export function approvalEnd(run: RunView, error: RunError, now: string): RunTransition | undefined {
  const record = openStep(run);
  const step = run.plan.steps[run.cursor];
  if (step?.kind !== "approval" || record?.status !== "RUNNING") return undefined;
  if (error.error === "Sluice.Rejected") {
    return endTransition(run, "FAILED", { ...error, code: APPROVAL_REJECTED }, now);
  }
  if (error.error !== "States.Timeout") return undefined;
  const minutes = Math.round(step.timeoutSeconds / 60);
  const timedOut: RunError = {
    error: "Sluice.Rejected",
    code: APPROVAL_TIMED_OUT,
    cause: `nobody decided stage ${step.id} within ${minutes} minutes`,
  };
  const ended = endTransition(run, "FAILED", timedOut, now);
  return {
    ...ended,
    events: [
      {
        detailType: "Approval Timed Out",
        detail: {
          ...runDetail(run, "RUNNING", now),
          stage: step.id,
          expiresAt: approvalExpiresAt(step, record),
          approvals: approvalsOf(record.votes ?? []),
          requiredApprovals: step.requiredApprovals,
        },
      },
      ...ended.events,
    ],
  };
}

/** A change to the approval's record that is written only over the record it was made from. */
function guarded(
  run: RunView,
  read: StepRecord,
  written: StepRecord,
  event?: LifecycleEvent,
): RunTransition {
  return {
    expect: {
      status: ["RUNNING"],
      cursor: run.cursor,
      attempt: run.attempt,
      step: { index: read.index, attempt: read.attempt, version: read.version ?? 0 },
    },
    set: {},
    steps: [written],
    events: event ? [event] : [],
  };
}
