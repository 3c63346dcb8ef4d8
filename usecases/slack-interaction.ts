import type { DecidedBy } from "../domain/approval-request";
import {
  APPROVE_ACTION,
  REJECT_ACTION,
  SlackActionValueSchema,
  type SlackBlock,
  type SlackReply,
  slackDecisionMessage,
} from "../domain/approval-slack";
import { BadRequestError, SluiceError, UnauthorizedError } from "../domain/errors";
import type { Clock } from "../domain/ports";
import { checkSlackSignature } from "../domain/slack-signature";
import { parseRequest } from "../domain/validation";
import * as z from "../domain/zod";
import { logger } from "../http/logger";

/** How an approval stands after a decision was taken, as the gate answers it. */
export interface DecisionOutcome {
  outcome: "recorded" | "approved" | "rejected";
  by: string;
  approvals: number;
  required: number;
}

/**
 * The approval gate, as Slack's clicks reach it: records one approver's decision on the
 * approval run `runId` waits in, or throws the domain error that says why it may not.
 */
export interface ApprovalDecider {
  decide(
    runId: string,
    by: DecidedBy,
    decision: "approve" | "reject",
    approval: { index: number; attempt: number },
  ): Promise<DecisionOutcome>;
}

export interface SlackInteractionPorts {
  /** The Slack app's signing secret; `fresh` reads it anew, as after a rotation. */
  signingSecret(options?: { fresh?: boolean }): Promise<string | undefined>;
  decider: ApprovalDecider;
  /** Posts a reply to a click's response_url. */
  slack: { respond(responseUrl: string, reply: SlackReply): Promise<void> };
  clock: Clock;
}

/** An interaction request as it came: header names lower-cased, the body as sent. */
export interface SlackInteractionRequest {
  headers: Record<string, string | undefined>;
  rawBody: string;
}

export type SlackInteractionOutcome =
  | { kind: "decided"; runId: string; decision: "approve" | "reject"; outcome: DecisionOutcome }
  | { kind: "refused"; runId: string; reason: string };

const BlockSchema = z.looseObject({ type: z.string(), block_id: z.optional(z.string()) });

const BlockActionsSchema = z.looseObject({
  type: z.literal("block_actions"),
  user: z.looseObject({ id: z.string().check(z.regex(/^[UW][A-Z0-9]+$/, "a Slack user id")) }),
  actions: z
    .array(z.looseObject({ action_id: z.string(), value: z.optional(z.string()) }))
    .check(z.minLength(1)),
  response_url: z.optional(z.url({ protocol: /^https?$/ })),
  message: z.optional(z.looseObject({ blocks: z.optional(z.array(BlockSchema)) })),
});

const DECISION_OF_ACTION: Record<string, "approve" | "reject"> = {
  [APPROVE_ACTION]: "approve",
  [REJECT_ACTION]: "reject",
};

/**
 * A click on an approval message's button (`POST /slack/interactions`). Only a request Slack
 * signed, within 5 minutes of now, is read; the clicker's Slack user id is who decides. The
 * message is then replaced to show who decided, or the clicker alone is told why not.
 */
export async function receiveSlackInteraction(
  ports: SlackInteractionPorts,
  request: SlackInteractionRequest,
): Promise<SlackInteractionOutcome> {
  await verify(ports, request);
  const click = parseClick(request.rawBody);
  const { runId, decision, user } = click;
  try {
    // The button names its approval's attempt: a message left from an attempt before a redrive
    // must not decide the newer one.
    const outcome = await ports.decider.decide(runId, { via: "slack", slack: user }, decision, {
      index: click.index,
      attempt: click.attempt,
    });
    const message = slackDecisionMessage(click.blocks, {
      outcome: outcome.outcome,
      slackUser: user,
      approvals: outcome.approvals,
      required: outcome.required,
    });
    await reply(ports, click.responseUrl, { ...message, replace_original: true });
    return { kind: "decided", runId, decision, outcome };
  } catch (err) {
    const refused = err instanceof SluiceError && err.expose && err.kind !== "Transient";
    if (!refused) logger.error("Slack decision failed", { runId, decision, error: err });
    const reason = refused
      ? (err as Error).message
      : "Sluice could not record your decision just now; try again in a moment.";
    await reply(ports, click.responseUrl, {
      response_type: "ephemeral",
      replace_original: false,
      text: `Your ${decision === "approve" ? "approval" : "rejection"} was not recorded: ${reason}`,
    });
    return { kind: "refused", runId, reason };
  }
}

async function verify(ports: SlackInteractionPorts, request: SlackInteractionRequest) {
  const check = async (fresh: boolean) => {
    const secret = await ports.signingSecret({ fresh });
    if (secret === undefined) {
      logger.warn("Slack interaction refused: no signing secret in SSM");
      throw new UnauthorizedError(
        "Slack interactivity is not set up here: the Slack app's signing secret is missing",
      );
    }
    return checkSlackSignature({
      signature: request.headers["x-slack-signature"],
      timestamp: request.headers["x-slack-request-timestamp"],
      rawBody: request.rawBody,
      secret,
      now: ports.clock.now(),
    });
  };
  let result = await check(false);
  // A rotated secret is taken at once: a mismatch is checked again against SSM's current one.
  if (result === "mismatch") result = await check(true);
  switch (result) {
    case "valid":
      return;
    case "missing":
      throw new UnauthorizedError(
        "missing or malformed X-Slack-Signature or X-Slack-Request-Timestamp: only requests Slack signed are taken",
      );
    case "stale":
      throw new UnauthorizedError(
        "X-Slack-Request-Timestamp is more than 5 minutes from now: refused as a possible replay",
      );
    case "mismatch":
      throw new UnauthorizedError(
        "X-Slack-Signature does not match this request: it was not signed with this Slack app's signing secret",
      );
  }
}

function parseClick(rawBody: string): {
  runId: string;
  index: number;
  attempt: number;
  decision: "approve" | "reject";
  user: string;
  responseUrl: string | undefined;
  blocks: SlackBlock[];
} {
  const payload = new URLSearchParams(rawBody).get("payload");
  if (!payload) {
    throw new BadRequestError(
      "a Slack interaction is a form with a `payload` field; it is missing",
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    throw new BadRequestError("the interaction's `payload` is not JSON");
  }
  const click = parseRequest(BlockActionsSchema, "Slack block_actions payload", json);
  const action = click.actions[0];
  const decision = action ? DECISION_OF_ACTION[action.action_id] : undefined;
  if (!action || !decision) {
    throw new BadRequestError(
      `unknown action ${JSON.stringify(action?.action_id)}: Sluice's buttons are ${APPROVE_ACTION} and ${REJECT_ACTION}`,
    );
  }
  const value = parseValue(action.value);
  return {
    runId: value.run,
    index: value.index,
    attempt: value.attempt,
    decision,
    user: click.user.id,
    responseUrl: click.response_url,
    blocks: (click.message?.blocks ?? []) as SlackBlock[],
  };
}

function parseValue(value: string | undefined): z.infer<typeof SlackActionValueSchema> {
  let json: unknown;
  try {
    json = JSON.parse(value ?? "");
  } catch {
    throw new BadRequestError("the button's value does not name an approval");
  }
  return parseRequest(SlackActionValueSchema, "button value", json);
}

/** A reply that fails is logged, not thrown: the decision it reports is already recorded. */
async function reply(
  ports: SlackInteractionPorts,
  responseUrl: string | undefined,
  message: SlackReply,
): Promise<void> {
  if (!responseUrl) return;
  try {
    await ports.slack.respond(responseUrl, message);
  } catch (err) {
    logger.warn("Slack reply not delivered", { reason: (err as Error).message });
  }
}
