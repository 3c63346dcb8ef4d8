import { randomBytes } from "node:crypto";
import { slackParameterNames } from "../../adapters/slack-parameters";
import { close, listen } from "../aws-json-server";
import type { LocalService } from "../local-service";
import { outboxDir } from "../outbox";
import { LocalSlack } from "../slack/local-slack";
import type { LocalSsm } from "../ssm";
import { ssmService } from "./ssm";

/**
 * Slack: an incoming webhook and response_urls whose messages go to `<state>/outbox/slack/`.
 * On start it configures the stack's Slack app in the local SSM as an operator would in AWS
 * (its webhook URL, and a signing secret unless one is there), so the same code path runs.
 */
export const slackService: LocalService<"slack", LocalSlack> = {
  name: "slack",
  title: "Slack",
  portVariable: "SLUICE_SLACK_PORT",
  defaultPort: 4588,
  async start(context, port) {
    const ssm = context.use(ssmService);
    const outbox = outboxDir(context.stateDir, "slack");
    const slack = new LocalSlack(outbox);
    const server = slack.serve();
    const listening = await listen(server, port);
    slack.listening(`http://127.0.0.1:${listening}`);
    try {
      await configureSlackApp(ssm, context.resources.secretsPrefix, slack.webhookUrl);
    } catch (err) {
      await close(server);
      throw err;
    }
    return {
      port: listening,
      handle: slack,
      summary: `incoming webhook; messages written to ${outbox}`,
      stop: () => close(server),
    };
  },
};

async function configureSlackApp(ssm: LocalSsm, prefix: string, webhookUrl: string) {
  const names = slackParameterNames(prefix);
  const current = await parameterValue(ssm, names.webhookUrl);
  // An operator's own webhook stays; the local one follows the port the stand-in took.
  if (current === undefined || (isLocalWebhook(current) && current !== webhookUrl)) {
    await put(ssm, names.webhookUrl, webhookUrl);
  }
  if ((await parameterValue(ssm, names.signingSecret)) === undefined) {
    await put(ssm, names.signingSecret, randomBytes(16).toString("hex"));
  }
}

function isLocalWebhook(url: string): boolean {
  return /^http:\/\/127\.0\.0\.1:\d+\/services\//.test(url);
}

async function parameterValue(ssm: LocalSsm, name: string): Promise<string | undefined> {
  try {
    const answer = (await ssm.operations.GetParameter?.({ Name: name, WithDecryption: true })) as {
      Parameter: { Value: string };
    };
    return answer.Parameter.Value;
  } catch (err) {
    if ((err as Error).name === "ParameterNotFound") return undefined;
    throw err;
  }
}

async function put(ssm: LocalSsm, name: string, value: string): Promise<void> {
  await ssm.operations.PutParameter?.({
    Name: name,
    Value: value,
    Type: "SecureString",
    Overwrite: true,
  });
}
