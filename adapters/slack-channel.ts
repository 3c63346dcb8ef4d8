import {
  IncomingWebhook,
  IncomingWebhookHTTPError,
  IncomingWebhookRequestError,
  type IncomingWebhookSendArguments,
} from "@slack/webhook";
import type { SlackMessage, SlackReply } from "../domain/approval-slack";
import { TransientError } from "../domain/errors";
import { logger } from "../http/logger";
import { slackSettings } from "./slack-settings";

/** A Slack URL that takes a POSTed message: the incoming webhook, or a click's response_url. */
export type SlackWebhookFactory = (url: string) => Pick<IncomingWebhook, "send">;

/** Slack wants an interaction answered within 3 s; its response_url call must fit in that. */
const POST_TIMEOUT_MS = 5_000;
const RESPOND_TIMEOUT_MS = 1_500;

/** Slack refused a message for good (a revoked webhook, an archived channel): no retry helps. */
export class SlackRefusedError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
  ) {
    super(`Slack refused the message with ${statusCode} ${reason}`);
    this.name = "SlackRefusedError";
  }
}

/**
 * Sluice's Slack channel: messages through the stack's incoming webhook, whose URL is read from
 * SSM, and replies through a click's response_url. URLs are secrets (whoever has one posts to
 * the channel), so no log or error carries one.
 */
export class SlackChannel {
  constructor(
    private readonly webhookUrl: () => Promise<string | undefined>,
    private readonly connect: SlackWebhookFactory = (url) =>
      new IncomingWebhook(url, { timeout: POST_TIMEOUT_MS }),
    private readonly connectReply: SlackWebhookFactory = (url) =>
      new IncomingWebhook(url, { timeout: RESPOND_TIMEOUT_MS }),
  ) {}

  /** Posts `message`; false when no webhook URL is configured, so Slack was skipped. */
  async post(message: SlackMessage): Promise<boolean> {
    const url = await this.webhookUrl();
    if (!url) {
      logger.info("Slack is not set up (no incoming webhook URL in SSM): message not posted");
      return false;
    }
    await send(this.connect(url), message);
    return true;
  }

  /** Answers a click through its response_url. */
  async respond(responseUrl: string, reply: SlackReply): Promise<void> {
    await send(this.connectReply(responseUrl), reply);
  }
}

async function send(
  webhook: Pick<IncomingWebhook, "send">,
  message: SlackMessage | SlackReply,
): Promise<void> {
  // The webhook client passes every field on; its type only lacks the reply's own.
  const payload: IncomingWebhookSendArguments = message;
  try {
    await webhook.send(payload);
  } catch (err) {
    if (err instanceof IncomingWebhookHTTPError) {
      if (err.statusCode >= 500 || err.statusCode === 429) {
        throw new TransientError(`Slack answered ${err.statusCode}; try again`);
      }
      throw new SlackRefusedError(err.statusCode, err.body.slice(0, 200));
    }
    if (err instanceof IncomingWebhookRequestError) {
      throw new TransientError(`Slack could not be reached: ${err.original.name}`);
    }
    throw err;
  }
}

let channel: SlackChannel | undefined;

/** The stack's Slack channel, its webhook URL from the container's Slack settings. */
export function slackChannel(): SlackChannel {
  const settings = slackSettings();
  channel ??= new SlackChannel(() => settings.webhookUrl());
  return channel;
}
