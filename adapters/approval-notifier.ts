import { approvalEmail } from "../domain/approval-email";
import type { ApprovalNotifier, ApprovalRequest } from "../domain/approval-request";
import { slackApprovalMessage } from "../domain/approval-slack";
import { isTransientAwsError, TransientError } from "../domain/errors";
import { logger } from "../http/logger";
import { type EmailChannel, emailChannel } from "./email-channel";
import { type SlackChannel, slackChannel } from "./slack-channel";

/**
 * Sends an approval request through every channel at once: the Slack message when the request
 * asks for it, and one mail per approver's link. A channel that failed for good (an address SES
 * refuses, a revoked webhook) is logged and the others still go; if any failed for a moment,
 * the whole request fails as Transient, so the state machine sends it again (those that went
 * may then arrive twice, which beats an approver never hearing of it).
 */
export class ChannelNotifier implements ApprovalNotifier {
  constructor(
    private readonly channels: {
      slack: Pick<SlackChannel, "post">;
      email: Pick<EmailChannel, "send">;
    },
    /** Notifiers of this process that get every request too (see alsoNotify). */
    private readonly listeners: ReadonlySet<ApprovalNotifier> = new Set(),
  ) {}

  async request(request: ApprovalRequest): Promise<void> {
    // Links carry tokens: only their count is logged.
    logger.info("approval requested", {
      runId: request.runId,
      stage: request.stage,
      links: request.links.length,
      slack: request.slack,
    });
    const deliveries: { channel: string; to?: string; sending: Promise<unknown> }[] = [];
    for (const listener of this.listeners) {
      deliveries.push({ channel: "listener", sending: listener.request(request) });
    }
    if (request.slack) {
      deliveries.push({
        channel: "slack",
        sending: this.channels.slack.post(slackApprovalMessage(request)),
      });
    }
    for (const link of request.links) {
      deliveries.push({
        channel: "email",
        to: link.email,
        sending: this.channels.email.send(approvalEmail(request, link)),
      });
    }
    const settled = await Promise.allSettled(deliveries.map((d) => d.sending));
    let transient: Error | undefined;
    settled.forEach((result, i) => {
      if (result.status === "fulfilled") return;
      const { channel, to } = deliveries[i] ?? { channel: "unknown" };
      const failure = { runId: request.runId, channel, ...(to ? { to } : {}) };
      const err = result.reason as Error;
      // A channel's own call (SSM reading the webhook URL, say) may fail for a moment too.
      if (err instanceof TransientError || isTransientAwsError(err)) {
        transient ??= err;
        logger.warn("approval request not delivered yet", { ...failure, reason: err.message });
      } else {
        logger.error("approval request refused by its channel", {
          ...failure,
          reason: `${err.name}: ${err.message}`,
        });
      }
    });
    if (transient) {
      throw new TransientError(`approval request of run ${request.runId}: ${transient.message}`);
    }
  }
}

const alsoNotified = new Set<ApprovalNotifier>();

/**
 * Lets a notifier of this process receive every request the stack's notifier sends too (the
 * local stack runs the handlers in its own process): what tests can read the links from. The
 * returned function stops it.
 */
export function alsoNotify(listener: ApprovalNotifier): () => void {
  alsoNotified.add(listener);
  return () => alsoNotified.delete(listener);
}

let notifier: ChannelNotifier | undefined;

/**
 * The stack's notifier, the one place the approval gate's requests leave through: Slack
 * through its incoming webhook, mail through SES.
 */
export function approvalNotifier(): ChannelNotifier {
  notifier ??= new ChannelNotifier({ slack: slackChannel(), email: emailChannel() }, alsoNotified);
  return notifier;
}
