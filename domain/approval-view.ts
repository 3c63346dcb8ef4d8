import type { ApproverSchema } from "./app";
import type { ApprovalDecision, ApprovalRefusal, ApprovalVote, RunView } from "./run";
import type * as z from "./zod";

/**
 * An approval step of a run as people may read it: who may approve, how many must, the request's
 * state, the votes and refusals. Tokens and links never appear: only how many links went out.
 */
export interface ApprovalView {
  stage: string;
  index: number;
  /** The attempt of the step shown (the latest); 0 when the run has not reached it. */
  attempt: number;
  status: string;
  timeoutSeconds: number;
  requiredApprovals: number;
  approvers: z.infer<typeof ApproverSchema>[];
  forbidSelfApproval: boolean;
  request?: {
    generation: number;
    issuedAt: string;
    sentAt?: string;
    links: number;
    expiresAt: string;
  };
  votes: ApprovalVote[];
  refusals: ApprovalRefusal[];
  decision?: ApprovalDecision;
}

export function approvalsOf(run: RunView): ApprovalView[] {
  return run.plan.steps.flatMap((step, index): ApprovalView[] => {
    if (step.kind !== "approval") return [];
    const record = run.steps
      .filter((s) => s.index === index)
      .sort((a, b) => b.attempt - a.attempt)[0];
    const request = record?.request;
    return [
      {
        stage: step.id,
        index,
        attempt: record?.attempt ?? 0,
        status: record?.status ?? "NOT_STARTED",
        timeoutSeconds: step.timeoutSeconds,
        requiredApprovals: step.requiredApprovals,
        approvers: step.approvers,
        forbidSelfApproval: step.forbidSelfApproval,
        ...(request
          ? {
              request: {
                generation: request.generation,
                issuedAt: request.issuedAt,
                ...(request.sentAt ? { sentAt: request.sentAt } : {}),
                links: request.links,
                expiresAt: request.expiresAt,
              },
            }
          : {}),
        votes: record?.votes ?? [],
        refusals: record?.refusals ?? [],
        ...(record?.approval ? { decision: record.approval } : {}),
      },
    ];
  });
}
