import { pipelineExecutions } from "../adapters/pipeline-executions";
import { runStore } from "../adapters/run-store";
import { slackChannel } from "../adapters/slack-channel";
import { slackSettings } from "../adapters/slack-settings";
import { systemClock } from "../domain/ports";
import { type ApiEvent, apiHandler, bodyText } from "../http/api";
import { logger } from "../http/logger";
import { decideApproval } from "../usecases/approval";
import { type ApprovalDecider, receiveSlackInteraction } from "../usecases/slack-interaction";

/**
 * The gate as Slack reaches it: the API's decision, recorded as the Slack user's. To be
 * replaced by the approval gate's own `decide` once it is there.
 */
const decider: ApprovalDecider = {
  async decide(runId, by, decision, comment) {
    const who =
      by.via === "slack" ? `slack:${by.slack}` : by.via === "link" ? by.email : by.principal;
    const decided = await decideApproval(
      { runs: runStore(), executions: pipelineExecutions(), clock: systemClock },
      runId,
      who,
      { decision, ...(comment ? { comment } : {}) },
    );
    const approved = decided.decision === "approve";
    return {
      outcome: approved ? "approved" : "rejected",
      by: decided.by,
      approvals: approved ? 1 : 0,
      required: 1,
    };
  },
};

/**
 * POST /slack/interactions: a click on an approval message's Approve or Reject button, signed
 * by Slack. Answered 200 once the decision is recorded and the message updated (well within
 * Slack's 3 s); an unsigned or stale request is a 401 and changes nothing.
 */
export const handler = apiHandler(async (event) => {
  const settings = slackSettings();
  const outcome = await receiveSlackInteraction(
    {
      signingSecret: (options) => settings.signingSecret(options),
      decider,
      slack: slackChannel(),
      clock: systemClock,
    },
    { headers: lowerCased(event.headers), rawBody: bodyText(event) },
  );
  logger.info("Slack interaction", { ...outcome });
  return { statusCode: 200, headers: { "content-type": "text/plain" }, body: "" };
});

function lowerCased(headers: ApiEvent["headers"]): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
}
