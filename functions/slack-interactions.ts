import { decisionPorts } from "../adapters/approval-ports";
import { slackChannel } from "../adapters/slack-channel";
import { slackSettings } from "../adapters/slack-settings";
import { systemClock } from "../domain/ports";
import { type ApiEvent, apiHandler, bodyText } from "../http/api";
import { logger } from "../http/logger";
import { decide } from "../usecases/approval";
import { type ApprovalDecider, receiveSlackInteraction } from "../usecases/slack-interaction";

/** The gate as Slack reaches it: a click decides as its Slack user, on the approval it names. */
const decider: ApprovalDecider = {
  decide: (runId, by, decision, approval) =>
    decide(decisionPorts(), runId, by, decision, { approval }),
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
