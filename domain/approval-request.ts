/**
 * What an approval asks of people, as the channels (Slack, email) show it: the one contract
 * between the approval gate, which decides, and the notifier, which only delivers.
 */

/** Someone the app lets decide its approvals; at least one of the ways to reach them. */
export interface Approver {
  email?: string;
  /** A Slack user id (`U…`): that user's button clicks count as this approver's decisions. */
  slack?: string;
  /** An IAM principal ARN: that caller's CLI and API decisions count as this approver's. */
  iam?: string;
}

/** Who decided, and through which proof: a personal link, Slack's signed click, or the API. */
export type DecidedBy =
  | { via: "link"; email: string }
  | { via: "slack"; slack: string }
  | { via: "api"; principal: string }
  /** A person signed in with the team's OIDC provider (the dashboard): their token's claims. */
  | { via: "oidc"; email?: string; sub: string };

/** A stage the run passed before its approval, as evidence for the approver. */
export interface ApprovalEvidence {
  stage: string;
  status: string;
  message?: string;
}

export interface ApprovalRequest {
  runId: string;
  app: string;
  /** The approval step's id in the run's plan, e.g. `sign-off`. */
  stage: string;
  /** The plan index and attempt of the approval: what a Slack button's value names. */
  index: number;
  attempt: number;
  /** The revision, as `describeRevision` tells it. */
  revision: string;
  /** The change behind it, when its intake knew: a commit's message and author. */
  change?: { message?: string; author?: string };
  evidence: ApprovalEvidence[];
  requiredApprovals: number;
  /** When the approval times out (ISO 8601): no link works after it. */
  expiresAt: string;
  /** One link per approver who has an email: each mail carries only its own. */
  links: { email: string; url: string }[];
  /** Whether to post to the deployment's Slack channel, whose buttons decide by Slack user. */
  slack: boolean;
}

/** Delivers approval requests; Sluice decides nothing here. */
export interface ApprovalNotifier {
  /** Sends the request through each of its channels; a channel that fails throws Transient. */
  request(request: ApprovalRequest): Promise<void>;
}
