import {
  type ApprovalStep,
  approvalExpiresAt,
  approvalsOf,
  type Ballot,
  castBallot,
  type Decision,
  type DecisionOutcome,
  evidenceOf,
  requestIssued,
  requestSent,
  waitingApproval,
} from "../domain/approval-gate";
import type { ApprovalNotifier, ApprovalRequest, DecidedBy } from "../domain/approval-request";
import { isSignedLinkToken, linkTokenHash, newLinkToken } from "../domain/approval-tokens";
import {
  ConflictError,
  ForbiddenError,
  GoneError,
  NotFoundError,
  TransientError,
} from "../domain/errors";
import type {
  AppRepository,
  ApprovalLink,
  ApprovalLinkKey,
  ApprovalLinks,
  Clock,
  PipelineEngine,
  RunRepository,
} from "../domain/ports";
import { describeRevision } from "../domain/revision";
import type { ApprovalDecision, RunView, StepRecord } from "../domain/run";
import { openStep } from "../domain/steps";
import { parseRequest } from "../domain/validation";
import * as z from "../domain/zod";
import type { QueuePorts } from "./run-queue";
import { tokenTask } from "./token-task";

export type { DecisionOutcome } from "../domain/approval-gate";

/** What deciding an approval needs: the runs, their executions (to resume) and a clock. */
export interface DecisionPorts {
  runs: RunRepository;
  executions: PipelineEngine;
  clock: Clock;
}

/** Deciding through a personal link needs the links too, and the key that signs them. */
export interface LinkPorts extends DecisionPorts {
  links: ApprovalLinks;
  linkKey: ApprovalLinkKey;
}

/** The approval task needs to send its request: the links, the notifier, the public URL. */
export interface ApprovalTaskPorts extends QueuePorts {
  apps: AppRepository;
  links: ApprovalLinks;
  linkKey: ApprovalLinkKey;
  notifier: ApprovalNotifier;
  /** Where people reach the HTTP API; without it no links are made. */
  publicUrl?: string;
}

/**
 * The approval step's task. It keeps the task token a decision resumes, then issues a personal
 * link to each approver with an email (earlier links of the attempt, if any, stop working),
 * hands the request to the notifier and records that it was sent (Approval Requested). Run
 * again for a request already sent (a restart, a Lambda retry), it only keeps the newer token:
 * nobody gets a second set of links. A redrive is a new attempt, with new links.
 */
export async function awaitApproval(ports: ApprovalTaskPorts, input: unknown): Promise<void> {
  const { run, index, token } = await tokenTask(ports, input, "approval task");
  if (run.cursor !== index) {
    throw new ConflictError(`run ${run.id} is not in step ${index} (it is in ${run.cursor})`);
  }
  const { step, record } = waitingApproval(run);
  // Kept first, so that any link or message that goes out can decide at once.
  await ports.runs.putTaskToken(run.id, index, run.attempt, token);
  // Decided before this try kept its token (the first try's answer was lost): it resumes this one.
  if (record.approval) return answer(ports.executions, token, record.approval, true);
  if (!record.request?.sentAt) await sendRequest(ports, run, step, record);
}

async function sendRequest(
  ports: ApprovalTaskPorts,
  run: RunView,
  step: ApprovalStep,
  record: StepRecord,
): Promise<void> {
  const now = ports.clock.now().toISOString();
  const expiresAt = approvalExpiresAt(step, record);
  const emailed = step.email
    ? step.approvers.flatMap((a, i) => (a.email ? [{ email: a.email, approver: i }] : []))
    : [];
  if (emailed.length && !ports.publicUrl) {
    throw new Error("SLUICE_PUBLIC_URL is not set: approval links cannot be made");
  }
  const issued = requestIssued(run, record, { issuedAt: now, links: emailed.length, expiresAt });
  await applyOrRetry(ports.runs, run.id, issued.transition, now);
  const generation = issued.record.request?.generation ?? 1;
  const key = emailed.length > 0 ? await ports.linkKey.key() : undefined;
  const tokens = key ? emailed.map((e) => ({ ...e, token: newLinkToken(key) })) : [];
  await ports.links.issue(
    tokens.map(
      (t): ApprovalLink => ({
        tokenHash: linkTokenHash(t.token),
        runId: run.id,
        index: record.index,
        attempt: record.attempt,
        generation,
        email: t.email,
        approver: t.approver,
        validUntil: expiresAt,
        createdAt: now,
      }),
    ),
  );
  await ports.notifier.request(
    approvalRequest(run, step, record, expiresAt, {
      links: tokens.map((t) => ({
        email: t.email,
        url: `${ports.publicUrl}/approvals/${t.token}`,
      })),
    }),
  );
  await recordSent(ports, run, step, issued.record);
}

/**
 * Records that the request went out. A vote written meanwhile (a link is clicked the moment it
 * arrives) changed the record: it is read again, and the request kept, unless it was replaced.
 * A vote that already decided the approval still leaves the send on the record and the trail,
 * so nobody reads a decision on a request that was never announced.
 */
async function recordSent(
  ports: ApprovalTaskPorts,
  run: RunView,
  step: ApprovalStep,
  issued: StepRecord,
): Promise<void> {
  let current = { run, record: issued };
  for (let tries = 0; ; tries++) {
    const sentAt = ports.clock.now().toISOString();
    try {
      await ports.runs.apply(
        run.id,
        requestSent(current.run, step, current.record, sentAt),
        sentAt,
      );
      return;
    } catch (err) {
      if (!(err instanceof ConflictError) || tries >= 5) throw err;
    }
    const fresh = await ports.runs.get(run.id);
    const record = fresh ? openStep(fresh) : undefined;
    const same = record?.index === issued.index && record.attempt === issued.attempt;
    if (!fresh || !record || !same || record.status !== "RUNNING") return;
    if (record.request?.generation !== issued.request?.generation) return;
    current = { run: fresh, record };
  }
}

/** Two tasks of one attempt at once (a retry racing its first try): the pipeline tries again. */
async function applyOrRetry(
  runs: RunRepository,
  runId: string,
  transition: Parameters<RunRepository["apply"]>[1],
  now: string,
) {
  try {
    await runs.apply(runId, transition, now);
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    throw new TransientError(`the approval of run ${runId} changed meanwhile; trying again`, {
      cause: err,
      expose: true,
    });
  }
}

function approvalRequest(
  run: RunView,
  step: ApprovalStep,
  record: StepRecord,
  expiresAt: string,
  { links }: Pick<ApprovalRequest, "links">,
): ApprovalRequest {
  const change = run.change;
  const author = change?.author;
  const authorText = author?.name
    ? `${author.name}${author.email ? ` <${author.email}>` : ""}`
    : (author?.email ?? author?.username);
  return {
    runId: run.id,
    app: run.app,
    stage: step.id,
    index: record.index,
    attempt: record.attempt,
    revision: describeRevision(run.revision),
    ...(change?.message || authorText
      ? {
          change: {
            ...(change?.message ? { message: change.message } : {}),
            ...(authorText ? { author: authorText } : {}),
          },
        }
      : {}),
    evidence: evidenceOf(run, record.index),
    requiredApprovals: step.requiredApprovals,
    expiresAt,
    links,
    slack: step.slack,
  };
}

/**
 * A decision on the approval the run waits in, by anyone the gate lets decide: the API's
 * caller (`via: "api"`), a Slack user, a link's approver. It is recorded with the run's change
 * in one conditional write, so of two deciders at the same moment exactly one settles the
 * approval, and only that one resumes the run. A refused decision is recorded as such and
 * throws ForbiddenError; a decision on an approval already settled throws ConflictError.
 */
export function decide(
  ports: DecisionPorts,
  runId: string,
  by: DecidedBy,
  decision: Decision,
  options: { comment?: string; approval?: { index: number; attempt: number } } = {},
): Promise<DecisionOutcome> {
  return cast(ports, runId, by, decision, options.comment, undefined, options.approval);
}

async function cast(
  ports: DecisionPorts,
  runId: string,
  by: DecidedBy,
  decision: Decision,
  comment: string | undefined,
  link: ApprovalLink | undefined,
  approval?: { index: number; attempt: number },
): Promise<DecisionOutcome> {
  for (let tries = 0; ; tries++) {
    const run = await ports.runs.get(runId);
    if (!run) throw new NotFoundError(`run ${runId} does not exist`);
    const { record } = waitingApproval(run);
    if (approval && (approval.index !== record.index || approval.attempt !== record.attempt)) {
      throw new ConflictError(
        `run ${runId} waits in another approval now (step ${record.index}, attempt ${record.attempt}); this request was for step ${approval.index}, attempt ${approval.attempt}`,
      );
    }
    const token = await ports.runs.taskToken(runId, record.index, record.attempt);
    if (record.approval) {
      // Settled already: its resumption may have failed after the write, so it is tried again.
      if (token) await answer(ports.executions, token, record.approval, true);
      throw new ConflictError(
        `the approval of run ${runId} was already decided by ${record.approval.by}`,
      );
    }
    if (link) linkFits(link, run, record);
    if (!token) throw new ConflictError(`the approval of run ${runId} is not ready yet; try again`);
    const at = ports.clock.now().toISOString();
    const ballot: Ballot = { decision, by, at, ...(comment ? { comment } : {}) };
    const result = castBallot(run, ballot);
    const transition =
      link && result.kind === "counted"
        ? { ...result.transition, spendsLink: { tokenHash: link.tokenHash, at } }
        : result.transition;
    try {
      await ports.runs.apply(runId, transition, at);
    } catch (err) {
      // Another decision was written first: read again and count this one after it.
      if (err instanceof ConflictError && tries < 5) continue;
      throw err;
    }
    if (result.kind === "refused") throw new ForbiddenError(result.reason);
    if (result.final) await answer(ports.executions, token, result.final, false);
    return result.outcome;
  }
}

/** Resumes the run's task with the decision; `again`: it may have been answered already. */
async function answer(
  executions: PipelineEngine,
  token: string,
  decision: ApprovalDecision,
  again: boolean,
): Promise<void> {
  try {
    if (decision.decision === "approve") {
      await executions.succeedTask(token, decision);
    } else {
      const comment = decision.comment ? `: ${decision.comment}` : "";
      await executions.failTask(token, "Sluice.Rejected", `rejected by ${decision.by}${comment}`);
    }
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    if (!again) {
      throw new ConflictError("the approval stopped waiting (it timed out) before this decision", {
        cause: err,
      });
    }
  }
}

export const DecisionRequestSchema = z.strictObject({
  decision: z.enum(["approve", "reject"]),
  comment: z.optional(z.string().check(z.maxLength(1000))),
});

function parseDecision(body: unknown): z.infer<typeof DecisionRequestSchema> {
  return parseRequest(DecisionRequestSchema, "decision", body);
}

/**
 * POST /runs/{id}/approval (the CLI) and POST /api/runs/{id}/approval (the dashboard): a
 * decision by the API's caller, an IAM principal or a person signed in with the team's OIDC
 * provider.
 */
export function decideApproval(
  ports: DecisionPorts,
  runId: string,
  by: Extract<DecidedBy, { via: "api" | "oidc" }>,
  body: unknown,
): Promise<DecisionOutcome> {
  const { decision, comment } = parseDecision(body);
  return decide(ports, runId, by, decision, comment ? { comment } : {});
}

/**
 * What a link's page shows: the approval it is for and who it is for. Refused as a decision
 * through it would be (forged 403, unknown 404, used or foreign 409, expired 410).
 */
export interface LinkView {
  runId: string;
  app: string;
  stage: string;
  revision: string;
  change?: ApprovalRequest["change"];
  evidence: ApprovalRequest["evidence"];
  email: string;
  approvals: number;
  required: number;
  expiresAt: string;
}

/** Reads a link for its page; never decides and never uses the link up. */
export async function viewLink(ports: LinkPorts, token: string): Promise<LinkView> {
  const { link, run } = await openLink(ports, token);
  const { step, record } = waitingApproval(run);
  const request = approvalRequest(run, step, record, link.validUntil, { links: [] });
  return {
    runId: run.id,
    app: run.app,
    stage: step.id,
    revision: request.revision,
    ...(request.change ? { change: request.change } : {}),
    evidence: request.evidence,
    email: link.email,
    approvals: approvalsOf(record.votes ?? []),
    required: step.requiredApprovals,
    expiresAt: link.validUntil,
  };
}

/** A decision through a personal link: its approver's, once; the link is used up with it. */
export async function decideByLink(
  ports: LinkPorts,
  token: string,
  decision: Decision,
  comment?: string,
): Promise<DecisionOutcome> {
  const { link } = await openLink(ports, token, { resumeIfUsed: true });
  return cast(ports, link.runId, { via: "link", email: link.email }, decision, comment, link);
}

/** The body of a link page's form (or a JSON one): the decision and an optional comment. */
export function linkDecision(body: unknown): { decision: Decision; comment?: string } {
  const { decision, comment } = parseDecision(body);
  return { decision, ...(comment?.trim() ? { comment: comment.trim() } : {}) };
}

/**
 * The link, checked: signed, known, unused, unexpired, for the approval waiting now. A used
 * link's decision may have been written without resuming the run (the answer to Step Functions
 * failed after it); `resumeIfUsed` answers the task again before the link is refused.
 */
async function openLink(
  ports: LinkPorts,
  token: string,
  { resumeIfUsed = false } = {},
): Promise<{ link: ApprovalLink; run: RunView }> {
  // The signature is checked before any lookup: a forged token costs no read.
  if (!isSignedLinkToken(await ports.linkKey.key(), token)) {
    throw new ForbiddenError("this approval link is not one Sluice made");
  }
  const link = await ports.links.get(linkTokenHash(token));
  if (!link) throw new NotFoundError("this approval link is unknown");
  if (link.usedAt) {
    if (resumeIfUsed) await resumeSettled(ports, link.runId);
    throw new ConflictError(`this approval link was already used (${link.usedAt})`);
  }
  if (Date.parse(link.validUntil) <= ports.clock.now().getTime()) {
    throw new GoneError(`this approval link expired at ${link.validUntil}`);
  }
  const run = await ports.runs.get(link.runId);
  if (!run) throw new NotFoundError("this approval link is unknown");
  const { record } = waitingApprovalOrForeign(run);
  linkFits(link, run, record);
  return { link, run };
}

/** Answers the task of a settled approval whose run has not gone on yet. */
async function resumeSettled(ports: DecisionPorts, runId: string): Promise<void> {
  const run = await ports.runs.get(runId);
  const record = run?.status === "RUNNING" ? openStep(run) : undefined;
  if (record?.kind !== "approval" || record.status !== "RUNNING" || !record.approval) return;
  const token = await ports.runs.taskToken(runId, record.index, record.attempt);
  if (token) await answer(ports.executions, token, record.approval, true);
}

function waitingApprovalOrForeign(run: RunView) {
  try {
    return waitingApproval(run);
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    throw new ConflictError(
      `this approval link is for an approval that no longer waits (run ${run.id} is ${run.status})`,
      { cause: err },
    );
  }
}

/** A link works only for the attempt it was issued for, and only its latest issue of links. */
function linkFits(link: ApprovalLink, run: RunView, record: StepRecord): void {
  if (
    record.index !== link.index ||
    record.attempt !== link.attempt ||
    record.request?.generation !== link.generation
  ) {
    throw new ConflictError(
      "this approval link is for an approval that no longer waits: a newer request replaced it",
    );
  }
  if (record.approval) {
    throw new ConflictError(
      `the approval of run ${run.id} was already decided by ${record.approval.by}`,
    );
  }
}
