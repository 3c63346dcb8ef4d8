import { describe, expect, it } from "vitest";
import { ApprovalSchema } from "../../domain/app";
import {
  type ApprovalStep,
  approvalEnd,
  castBallot,
  evidenceOf,
  identify,
} from "../../domain/approval-gate";
import { isSignedLinkToken, linkTokenHash, newLinkToken } from "../../domain/approval-tokens";
import { ConflictError } from "../../domain/errors";
import { type RunView, type StepRecord, stagesOf } from "../../domain/run";
import { formatIssues } from "../../domain/validation";

const AT = "2026-03-01T10:00:00.000Z";

function gate(approval: Record<string, unknown>): ApprovalStep {
  const { timeoutMinutes, ...rest } = ApprovalSchema.parse(approval);
  return { id: "sign-off", kind: "approval", timeoutSeconds: timeoutMinutes * 60, ...rest };
}

/** A run waiting in its approval (plan step 1), with the approval's record as given. */
function waiting(
  step: ApprovalStep,
  record: Partial<StepRecord> = {},
  extra: Record<string, unknown> = {},
): RunView {
  const steps: StepRecord[] = [
    {
      step: "source",
      kind: "source",
      index: 0,
      attempt: 1,
      status: "SUCCEEDED",
      startedAt: AT,
      endedAt: AT,
      message: "pinned abc",
    },
    {
      step: "sign-off",
      kind: "approval",
      index: 1,
      attempt: 1,
      status: "RUNNING",
      startedAt: AT,
      ...record,
    },
  ];
  return {
    id: "01HZY0000000000000000000AA",
    app: "shop",
    status: "RUNNING",
    revision: { type: "git", commit: "a".repeat(40) },
    trigger: { type: "api" },
    createdAt: AT,
    updatedAt: AT,
    plan: { steps: [{ id: "source", kind: "source" }, step] },
    cursor: 1,
    attempt: 1,
    retries: [],
    steps,
    stages: stagesOf(steps),
    ...extra,
  };
}

/** Applies a counted ballot's step record to the run, as the store would. */
function withBallot(run: RunView, result: ReturnType<typeof castBallot>): RunView {
  const written = result.transition.steps[0] as StepRecord;
  return { ...run, steps: run.steps.map((s) => (s.index === written.index ? written : s)) };
}

describe("an approval's definition", () => {
  it("defaults to anyone the API lets in, one approval, Slack and email on", () => {
    expect(ApprovalSchema.parse({})).toEqual({
      timeoutMinutes: 10080,
      approvers: [],
      requiredApprovals: 1,
      forbidSelfApproval: false,
      slack: true,
      email: true,
    });
  });

  it.each([
    [{ approvers: [{}] }, "approvers.0: an approver needs an email, a slack user id or an iam"],
    [{ approvers: [{ email: "not-mail" }] }, "approvers.0.email: must be an email address"],
    [{ approvers: [{ slack: "bob" }] }, "approvers.0.slack: must be a Slack user id"],
    [{ approvers: [{ iam: "alice" }] }, "approvers.0.iam: must be an IAM principal ARN"],
    [
      { approvers: [{ email: "a@example.com" }], requiredApprovals: 2 },
      "requiredApprovals: 2 approvals are required of only 1 approvers",
    ],
    [
      { approvers: [{ email: "a@example.com" }, { email: "A@example.com" }] },
      "approvers.1: a@example.com names two approvers",
    ],
    [{ timeoutMinutes: 4 }, "timeoutMinutes"],
  ])("refuses %j, saying where", (approval, message) => {
    const parsed = ApprovalSchema.safeParse(approval);
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(formatIssues("approval", parsed.error)).toContain(message);
  });
});

describe("a link token", () => {
  const key = Buffer.alloc(32, 7);

  it("is 32 random bytes and a signature, base64url, verified only under its key", () => {
    const token = newLinkToken(key);

    expect(token).toMatch(/^[\w-]{43}\.[\w-]{22}$/);
    expect(isSignedLinkToken(key, token)).toBe(true);
    expect(isSignedLinkToken(Buffer.alloc(32, 8), token)).toBe(false);
    expect(newLinkToken(key)).not.toBe(token);
  });

  it("is refused when any part is changed or it is not a token at all", () => {
    const token = newLinkToken(key);
    const [random = "", signature = ""] = token.split(".");
    const other = random.startsWith("A") ? "B" : "A";

    expect(isSignedLinkToken(key, `${other}${random.slice(1)}.${signature}`)).toBe(false);
    expect(isSignedLinkToken(key, `${random}.${newLinkToken(key).split(".")[1]}`)).toBe(false);
    expect(isSignedLinkToken(key, random)).toBe(false);
    expect(isSignedLinkToken(key, `${token}x`)).toBe(false);
    expect(isSignedLinkToken(key, "")).toBe(false);
  });

  it("is stored as its SHA-256 only", () => {
    const token = newLinkToken(key);
    expect(linkTokenHash(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(linkTokenHash(token)).not.toContain(token.slice(0, 8));
  });
});

describe("who may decide", () => {
  const listed = gate({
    approvers: [
      { email: "ana@example.com", slack: "U0ANA", iam: "arn:aws:iam::123456789012:user/ana" },
      { slack: "U0BO" },
    ],
  });

  it("is an approver by any of their proofs, named by their email when they have one", () => {
    expect(identify(listed, { via: "link", email: "ANA@example.com" })).toEqual({
      approver: 0,
      name: "ana@example.com",
    });
    expect(identify(listed, { via: "slack", slack: "U0ANA" })).toEqual({
      approver: 0,
      name: "ana@example.com",
    });
    expect(identify(listed, { via: "slack", slack: "U0BO" })).toEqual({
      approver: 1,
      name: "slack:U0BO",
    });
  });

  it("is nobody else when approvers are listed", () => {
    expect(
      identify(listed, { via: "api", principal: "arn:aws:iam::123456789012:user/eve" }),
    ).toEqual({
      refused: "arn:aws:iam::123456789012:user/eve is not an approver of stage sign-off",
    });
    expect(identify(listed, { via: "slack", slack: "U0EVE" })).toHaveProperty("refused");
  });

  it("is an approver by the email of a person's JWT, never by a claim that looks like an ARN", () => {
    expect(identify(listed, { via: "oidc", email: "Ana@Example.com", sub: "00u1" })).toEqual({
      approver: 0,
      name: "ana@example.com",
    });
    expect(identify(listed, { via: "oidc", sub: "arn:aws:iam::123456789012:user/ana" })).toEqual({
      refused: "oidc:arn:aws:iam::123456789012:user/ana is not an approver of stage sign-off",
    });
    expect(identify(gate({}), { via: "oidc", sub: "00u2" })).toEqual({ name: "oidc:00u2" });
  });

  it("is anyone the API or Slack lets in when none are listed", () => {
    const open = gate({});
    expect(identify(open, { via: "api", principal: "arn:aws:iam::1:user/x" })).toEqual({
      name: "arn:aws:iam::1:user/x",
    });
    expect(identify(open, { via: "link", email: "a@example.com" })).toHaveProperty("refused");
  });
});

describe("casting a ballot", () => {
  const two = gate({
    approvers: [
      { email: "ana@example.com", iam: "arn:aws:iam::123456789012:user/ana" },
      { email: "bo@example.com" },
    ],
    requiredApprovals: 2,
  });

  it("counts distinct approvers: the same one twice counts once, the second one settles it", () => {
    let run = waiting(two);
    const first = castBallot(run, {
      decision: "approve",
      by: { via: "link", email: "ana@example.com" },
      at: AT,
    });
    run = withBallot(run, first);
    const again = castBallot(run, {
      decision: "approve",
      by: { via: "api", principal: "arn:aws:iam::123456789012:user/ana" },
      at: AT,
    });
    run = withBallot(run, again);
    const settled = castBallot(run, {
      decision: "approve",
      by: { via: "link", email: "bo@example.com" },
      comment: "ok",
      at: AT,
    });

    expect(first).toMatchObject({
      kind: "counted",
      outcome: { outcome: "recorded", approvals: 1 },
    });
    expect(again).toMatchObject({
      kind: "counted",
      outcome: { outcome: "recorded", approvals: 1 },
    });
    expect(settled).toMatchObject({
      kind: "counted",
      outcome: { outcome: "approved", by: "bo@example.com", approvals: 2, required: 2 },
      final: { decision: "approve", by: "bo@example.com", comment: "ok", at: AT },
    });
    expect(first.transition.events.map((e) => e.detailType)).toEqual(["Approval Voted"]);
    expect(settled.transition.events.map((e) => e.detailType)).toEqual(["Approval Decided"]);
  });

  it("rejects on one rejection, whatever was approved before", () => {
    const run = withBallot(
      waiting(two),
      castBallot(waiting(two), {
        decision: "approve",
        by: { via: "link", email: "ana@example.com" },
        at: AT,
      }),
    );
    const rejected = castBallot(run, {
      decision: "reject",
      by: { via: "link", email: "bo@example.com" },
      at: AT,
    });
    expect(rejected).toMatchObject({
      outcome: { outcome: "rejected" },
      final: { decision: "reject" },
    });
  });

  it("writes only over the record it read, one version on", () => {
    const run = waiting(two, { version: 3 });
    const result = castBallot(run, {
      decision: "approve",
      by: { via: "link", email: "ana@example.com" },
      at: AT,
    });
    expect(result.transition.expect).toMatchObject({
      status: ["RUNNING"],
      cursor: 1,
      attempt: 1,
      step: { index: 1, attempt: 1, version: 3 },
    });
    expect(result.transition.steps[0]?.version).toBe(4);
  });

  it("refuses the change's author's approval when self-approval is forbidden, not their rejection", () => {
    const strict = gate({ approvers: [{ email: "ana@example.com" }], forbidSelfApproval: true });
    const run = waiting(
      strict,
      {},
      { change: { author: { name: "Ana", email: "Ana@Example.com" } } },
    );
    const by = { via: "link" as const, email: "ana@example.com" };

    const approve = castBallot(run, { decision: "approve", by, at: AT });
    const reject = castBallot(run, { decision: "reject", by, at: AT });

    expect(approve).toMatchObject({
      kind: "refused",
      reason:
        "ana@example.com wrote this change, and stage sign-off forbids approving one's own change",
    });
    expect(approve.transition.steps[0]?.votes).toBeUndefined();
    expect(approve.transition.steps[0]?.refusals).toEqual([
      expect.objectContaining({ by: "ana@example.com", via: "link", decision: "approve" }),
    ]);
    expect(approve.transition.events.map((e) => e.detailType)).toEqual(["Approval Refused"]);
    expect(reject).toMatchObject({ kind: "counted", outcome: { outcome: "rejected" } });
  });

  it("refuses a ballot on an approval already settled", () => {
    const run = waiting(two, { approval: { decision: "approve", by: "ana", at: AT } });
    expect(() =>
      castBallot(run, {
        decision: "approve",
        by: { via: "link", email: "bo@example.com" },
        at: AT,
      }),
    ).toThrow(ConflictError);
  });
});

describe("the end of a run waiting in its approval", () => {
  const step = gate({ timeoutMinutes: 30 });

  it("is rejected by its timeout, recorded as Approval Timed Out", () => {
    const ended = approvalEnd(waiting(step), { error: "States.Timeout", cause: "" }, AT);
    expect(ended?.set.error).toEqual({
      error: "Sluice.Rejected",
      code: "APPROVAL_TIMED_OUT",
      cause: "nobody decided stage sign-off within 30 minutes",
    });
    expect(ended?.events.map((e) => e.detailType)).toEqual([
      "Approval Timed Out",
      "Stage Failed",
      "Run Failed",
    ]);
  });

  it("is rejected by a rejection, and is left to the usual end for anything else", () => {
    const error = { error: "Sluice.Rejected", cause: "rejected by bo" };
    expect(approvalEnd(waiting(step), error, AT)?.set.error).toEqual({
      ...error,
      code: "APPROVAL_REJECTED",
    });
    expect(approvalEnd(waiting(step), { error: "States.Runtime", cause: "x" }, AT)).toBeUndefined();
  });

  it("shows the approver what the run did before it", () => {
    expect(evidenceOf(waiting(step), 1)).toEqual([
      { stage: "source", status: "SUCCEEDED", message: "pinned abc" },
    ]);
  });
});
