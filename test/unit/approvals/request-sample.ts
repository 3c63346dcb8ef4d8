import type { ApprovalRequest } from "../../../domain/approval-request";

/** An approval request as the gate would send it: two approvers, beta and gamma passed. */
export function sampleRequest(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return {
    runId: "01JTESTRUN0000000000000000",
    app: "shop",
    stage: "sign-off",
    index: 4,
    attempt: 1,
    revision: "git 0123456 (refs/heads/main)",
    change: {
      message: "Fix checkout <script>alert(1)</script> & totals\n\nLonger body",
      author: "Ada <ada@example.com>",
    },
    evidence: [
      { stage: "beta", status: "SUCCEEDED", message: "3 of 3 hosts" },
      { stage: "gamma", status: "SUCCEEDED" },
    ],
    requiredApprovals: 2,
    expiresAt: "2026-12-08T12:00:00.000Z",
    links: [
      { email: "ada@example.com", url: "https://sluice.example/approvals/tok-ada" },
      { email: "bob@example.com", url: "https://sluice.example/approvals/tok-bob" },
    ],
    slack: true,
    ...overrides,
  };
}
