import type { IncomingWebhookSendArguments } from "@slack/webhook";
import type { ApprovalRequest } from "./approval-request";
import * as z from "./zod";

/** A Block Kit block, as Slack's own types describe it. */
export type SlackBlock = NonNullable<IncomingWebhookSendArguments["blocks"]>[number];

/** A message Sluice posts or replaces: the fallback text notifications show, and its blocks. */
export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

/** How a message replaces the one a button was clicked on, or answers only the clicker. */
export type SlackReply =
  | (SlackMessage & { replace_original: true })
  | { response_type: "ephemeral"; replace_original: false; text: string };

export const APPROVE_ACTION = "sluice_approve";
export const REJECT_ACTION = "sluice_reject";
/** The block holding the buttons, and the one that says how the approval stands. */
const ACTIONS_BLOCK = "sluice_approval";
const STATUS_BLOCK = "sluice_status";

/** Slack caps a section's text at 3000 characters and a header's at 150. */
const SECTION_MAX = 3000;
const HEADER_MAX = 150;
const COMMIT_MESSAGE_MAX = 1000;

/** What a button's `value` names: the approval it decides, so a stale button decides nothing. */
export const SlackActionValueSchema = z.strictObject({
  run: z.string().check(z.minLength(1)),
  index: z.number().check(z.int(), z.nonnegative()),
  attempt: z.number().check(z.int(), z.positive()),
});
export type SlackActionValue = z.infer<typeof SlackActionValueSchema>;

export function slackActionValue(request: ApprovalRequest): string {
  const value: SlackActionValue = {
    run: request.runId,
    index: request.index,
    attempt: request.attempt,
  };
  return JSON.stringify(value);
}

/** The message that asks for an approval: the change, what came before, and two buttons. */
export function slackApprovalMessage(request: ApprovalRequest): SlackMessage {
  const value = slackActionValue(request);
  const blocks: SlackBlock[] = [
    {
      type: "header",
      text: { type: "plain_text", text: cap(`Approval needed: ${request.app}`, HEADER_MAX) },
    },
    {
      type: "section",
      fields: [
        { type: "mrkdwn", text: `*App*\n${escapeMrkdwn(request.app)}` },
        { type: "mrkdwn", text: `*Revision*\n${escapeMrkdwn(request.revision)}` },
        { type: "mrkdwn", text: `*Approval*\n${escapeMrkdwn(request.stage)}` },
        { type: "mrkdwn", text: `*Run*\n${escapeMrkdwn(request.runId)}` },
      ],
    },
  ];
  const change = changeText(request.change);
  if (change) blocks.push(section(change));
  if (request.evidence.length > 0) {
    const lines = request.evidence.map(
      (e) =>
        `${statusMark(e.status)} *${escapeMrkdwn(e.stage)}*: ${escapeMrkdwn(e.status)}` +
        (e.message ? ` (${escapeMrkdwn(e.message)})` : ""),
    );
    blocks.push(section(`*Before this*\n${lines.join("\n")}`));
  }
  blocks.push(
    {
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          text: `${approvalsNeeded(request.requiredApprovals)} · expires ${slackDate(request.expiresAt)}`,
        },
      ],
    },
    {
      type: "actions",
      block_id: ACTIONS_BLOCK,
      elements: [
        {
          type: "button",
          action_id: APPROVE_ACTION,
          text: { type: "plain_text", text: "Approve" },
          style: "primary",
          value,
        },
        {
          type: "button",
          action_id: REJECT_ACTION,
          text: { type: "plain_text", text: "Reject" },
          style: "danger",
          value,
          confirm: {
            title: { type: "plain_text", text: "Reject this change?" },
            text: {
              type: "mrkdwn",
              text: `Run ${escapeMrkdwn(request.runId)} of ${escapeMrkdwn(request.app)} ends rejected.`,
            },
            confirm: { type: "plain_text", text: "Reject" },
            deny: { type: "plain_text", text: "Cancel" },
            style: "danger",
          },
        },
      ],
    },
  );
  return {
    text: `Approval needed: ${escapeMrkdwn(request.app)} ${escapeMrkdwn(request.revision)} (${escapeMrkdwn(request.stage)})`,
    blocks,
  };
}

/** How an approval stands after one Slack user's click, as the gate told it. */
export interface SlackDecision {
  outcome: "recorded" | "approved" | "rejected";
  /** The Slack user id who clicked. */
  slackUser: string;
  approvals: number;
  required: number;
}

/**
 * The message that replaces the original once someone decided: the original's content, then
 * who decided. Once the approval is final the buttons go; while more approvals are needed
 * they stay, under a line saying how many there are.
 */
export function slackDecisionMessage(
  original: readonly SlackBlock[],
  decision: SlackDecision,
): SlackMessage {
  const user = `<@${decision.slackUser}>`;
  const status = statusLine(decision, user);
  const final = decision.outcome !== "recorded";
  const kept = original.filter(
    (block) => block.block_id !== STATUS_BLOCK && (!final || block.block_id !== ACTIONS_BLOCK),
  );
  const statusBlock: SlackBlock = section(status, STATUS_BLOCK);
  const actionsAt = kept.findIndex((block) => block.block_id === ACTIONS_BLOCK);
  const blocks =
    actionsAt < 0
      ? [...kept, statusBlock]
      : [...kept.slice(0, actionsAt), statusBlock, ...kept.slice(actionsAt)];
  return { text: status, blocks };
}

function statusLine(decision: SlackDecision, user: string): string {
  switch (decision.outcome) {
    case "approved":
      return `:white_check_mark: Approved by ${user}`;
    case "rejected":
      return `:x: Rejected by ${user}`;
    case "recorded":
      return `:ballot_box_with_check: ${user} approved: ${decision.approvals} of ${decision.required} approvals`;
  }
}

function changeText(change: ApprovalRequest["change"]): string | undefined {
  const message = change?.message?.trim();
  if (!message && !change?.author) return undefined;
  const quoted = message
    ? cap(message, COMMIT_MESSAGE_MAX)
        .split("\n")
        .map((line) => `> ${escapeMrkdwn(line)}`)
        .join("\n")
    : undefined;
  const author = change?.author ? `by ${escapeMrkdwn(change.author)}` : undefined;
  return ["*Change*", quoted, author].filter(Boolean).join("\n");
}

function approvalsNeeded(required: number): string {
  return required === 1 ? "Needs 1 approval" : `Needs ${required} approvals`;
}

function statusMark(status: string): string {
  if (status === "SUCCEEDED") return ":white_check_mark:";
  if (status === "FAILED") return ":x:";
  return ":white_circle:";
}

/** Slack shows a date token in each reader's own time zone, with the fallback elsewhere. */
function slackDate(iso: string): string {
  const seconds = Math.floor(Date.parse(iso) / 1000);
  if (!Number.isFinite(seconds)) return escapeMrkdwn(iso);
  return `<!date^${seconds}^{date_short_pretty} {time}|${escapeMrkdwn(iso)}>`;
}

function section(text: string, blockId?: string): SlackBlock {
  return {
    type: "section",
    ...(blockId ? { block_id: blockId } : {}),
    text: { type: "mrkdwn", text: cap(text, SECTION_MAX) },
  };
}

function cap(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Slack's mrkdwn reads `<`, `>` and `&` as markup: a commit message must not ping @channel. */
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
