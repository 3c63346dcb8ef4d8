import type { ApprovalNotifier, ApprovalRequest } from "../domain/approval-request";
import { logger } from "../http/logger";

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
    },
  };
}
