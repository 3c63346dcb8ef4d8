import type { ApprovalNotifier, ApprovalRequest } from "../domain/approval-request";
import { logger } from "../http/logger";

const alsoNotified = new Set<ApprovalNotifier>();

/**
 * Lets a notifier of this process receive every request the stack's notifier sends too (the
 * local stack runs the handlers in its own process): what tests and a local console read the
 * links from. The returned function stops it.
 */
export function alsoNotify(notifier: ApprovalNotifier): () => void {
  alsoNotified.add(notifier);
  return () => alsoNotified.delete(notifier);
}

/**
 * The stack's approval notifier: the one place the approval gate's requests leave through.
 * The channels (Slack, email) plug in here. Links carry tokens, so only their count is logged.
 */
export function approvalNotifier(): ApprovalNotifier {
  return {
    async request(request: ApprovalRequest): Promise<void> {
      logger.info("approval requested", {
        runId: request.runId,
        stage: request.stage,
        links: request.links.length,
        slack: request.slack,
      });
      for (const notifier of alsoNotified) await notifier.request(request);
    },
  };
}
