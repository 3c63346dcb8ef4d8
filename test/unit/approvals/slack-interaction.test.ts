import { describe, expect, it } from "vitest";
import type { DecidedBy } from "../../../domain/approval-request";
import {
  type SlackReply,
  slackActionValue,
  slackApprovalMessage,
} from "../../../domain/approval-slack";
import { ConflictError, TransientError, UnauthorizedError } from "../../../domain/errors";
import { slackSignature } from "../../../domain/slack-signature";
import {
  type DecisionOutcome,
  receiveSlackInteraction,
  type SlackInteractionPorts,
} from "../../../usecases/slack-interaction";
import { sampleRequest } from "./request-sample";

const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const NOW = new Date("2026-12-01T12:00:00Z");
const RESPONSE_URL = "https://hooks.slack.com/actions/T1/123/abc";

interface Decision {
  runId: string;
  by: DecidedBy;
  decision: "approve" | "reject";
}

function fakes(answer: () => Promise<DecisionOutcome> = async () => approved) {
  const decisions: Decision[] = [];
  const replies: { url: string; reply: SlackReply }[] = [];
  let secret: string | undefined = SECRET;
  const ports: SlackInteractionPorts = {
    signingSecret: async () => secret,
    decider: {
      decide: async (runId, by, decision) => {
        decisions.push({ runId, by, decision });
        return answer();
      },
    },
    slack: {
      respond: async (url, reply) => {
        replies.push({ url, reply });
      },
    },
    clock: { now: () => NOW },
  };
  return {
    ports,
    decisions,
    replies,
    setSecret: (value: string | undefined) => {
      secret = value;
    },
  };
}

const approved: DecisionOutcome = { outcome: "approved", by: "U123", approvals: 1, required: 1 };

function clickBody(actionId = "sluice_approve", overrides: Record<string, unknown> = {}): string {
  const request = sampleRequest();
  const payload = {
    type: "block_actions",
    user: { id: "U123", username: "ada" },
    actions: [{ action_id: actionId, value: slackActionValue(request), type: "button" }],
    response_url: RESPONSE_URL,
    message: { blocks: slackApprovalMessage(request).blocks },
    ...overrides,
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

function signed(rawBody: string, at = NOW, secret = SECRET) {
  const timestamp = String(Math.floor(at.getTime() / 1000));
  return {
    headers: {
      "x-slack-request-timestamp": timestamp,
      "x-slack-signature": slackSignature(secret, timestamp, rawBody),
    },
    rawBody,
  };
}

describe("a Slack click on an approval's button", () => {
  it("decides as the Slack user who clicked, and replaces the message with who approved", async () => {
    const { ports, decisions, replies } = fakes();

    const outcome = await receiveSlackInteraction(ports, signed(clickBody()));

    expect(outcome.kind).toBe("decided");
    expect(decisions).toEqual([
      {
        runId: "01JTESTRUN0000000000000000",
        by: { via: "slack", slack: "U123" },
        decision: "approve",
      },
    ]);
    expect(replies).toHaveLength(1);
    const { url, reply } = replies[0] as { url: string; reply: SlackReply };
    expect(url).toBe(RESPONSE_URL);
    expect(reply).toMatchObject({
      replace_original: true,
      text: expect.stringContaining("Approved by <@U123>"),
    });
    expect(JSON.stringify(reply)).not.toContain("sluice_approve");
  });

  it("rejects through the Reject button", async () => {
    const { ports, decisions, replies } = fakes(async () => ({
      outcome: "rejected",
      by: "U123",
      approvals: 0,
      required: 1,
    }));

    await receiveSlackInteraction(ports, signed(clickBody("sluice_reject")));

    expect(decisions[0]?.decision).toBe("reject");
    expect(replies[0]?.reply.text).toContain("Rejected by <@U123>");
  });

  it("keeps the buttons while more approvals are needed", async () => {
    const { ports, replies } = fakes(async () => ({
      outcome: "recorded",
      by: "U123",
      approvals: 1,
      required: 2,
    }));

    await receiveSlackInteraction(ports, signed(clickBody()));

    expect(replies[0]?.reply.text).toContain("1 of 2 approvals");
    expect(JSON.stringify(replies[0]?.reply)).toContain("sluice_approve");
  });

  it("tells only the clicker why a refused decision was not recorded", async () => {
    const { ports, replies } = fakes(async () => {
      throw new ConflictError("the author of a change may not approve it");
    });

    const outcome = await receiveSlackInteraction(ports, signed(clickBody()));

    expect(outcome).toMatchObject({
      kind: "refused",
      reason: "the author of a change may not approve it",
    });
    expect(replies[0]?.reply).toEqual({
      response_type: "ephemeral",
      replace_original: false,
      text: "Your approval was not recorded: the author of a change may not approve it",
    });
  });

  it("hides a transient failure's cause and asks the clicker to try again", async () => {
    const { ports, replies } = fakes(async () => {
      throw new TransientError("DynamoDB throttled at table sluice-prod");
    });

    await receiveSlackInteraction(ports, signed(clickBody()));

    expect(replies[0]?.reply.text).toContain("try again");
    expect(replies[0]?.reply.text).not.toContain("DynamoDB");
  });

  it("still answers when the message update cannot be delivered", async () => {
    const { ports } = fakes();
    ports.slack.respond = async () => {
      throw new TransientError("Slack answered 503");
    };

    await expect(receiveSlackInteraction(ports, signed(clickBody()))).resolves.toMatchObject({
      kind: "decided",
    });
  });
});

describe("requests Slack did not sign", () => {
  const cases: [string, () => { headers: Record<string, string>; rawBody: string }, RegExp][] = [
    ["a wrong signature", () => signed(clickBody(), NOW, "another-secret"), /does not match/],
    [
      "a timestamp more than 5 minutes old",
      () => signed(clickBody(), new Date(NOW.getTime() - 5 * 60_000 - 1000)),
      /more than 5 minutes/,
    ],
    [
      "a timestamp more than 5 minutes ahead",
      () => signed(clickBody(), new Date(NOW.getTime() + 5 * 60_000 + 1000)),
      /more than 5 minutes/,
    ],
    ["no signature header", () => ({ headers: {}, rawBody: clickBody() }), /missing/],
    [
      "a body changed after signing",
      () => ({ ...signed(clickBody()), rawBody: clickBody("sluice_reject") }),
      /does not match/,
    ],
  ];

  for (const [what, request, message] of cases) {
    it(`refuses ${what} and decides nothing`, async () => {
      const { ports, decisions, replies } = fakes();

      const refused = receiveSlackInteraction(ports, request());

      await expect(refused).rejects.toBeInstanceOf(UnauthorizedError);
      await expect(refused).rejects.toThrow(message);
      expect(decisions).toEqual([]);
      expect(replies).toEqual([]);
    });
  }

  it("takes a timestamp 4 minutes old", async () => {
    const { ports, decisions } = fakes();

    await receiveSlackInteraction(ports, signed(clickBody(), new Date(NOW.getTime() - 4 * 60_000)));

    expect(decisions).toHaveLength(1);
  });

  it("refuses every request while no signing secret is set up", async () => {
    const { ports, decisions, setSecret } = fakes();
    setSecret(undefined);

    await expect(receiveSlackInteraction(ports, signed(clickBody()))).rejects.toThrow(
      /signing secret is missing/,
    );
    expect(decisions).toEqual([]);
  });

  it("takes a rotated secret at once, reading SSM again before refusing", async () => {
    const { ports, decisions } = fakes();
    const reads: boolean[] = [];
    ports.signingSecret = async (options) => {
      reads.push(options?.fresh === true);
      return options?.fresh ? "rotated" : SECRET;
    };

    await receiveSlackInteraction(ports, signed(clickBody(), NOW, "rotated"));

    expect(reads).toEqual([false, true]);
    expect(decisions).toHaveLength(1);
  });
});

describe("signed requests that are not a click on Sluice's buttons", () => {
  const cases: [string, string, RegExp][] = [
    ["no payload field", "foo=bar", /payload/],
    ["a payload that is not JSON", "payload=%7Bnot", /not JSON/],
    [
      "another payload type",
      clickBody("sluice_approve", { type: "view_submission" }),
      /block_actions/,
    ],
    ["an unknown button", clickBody("other_button"), /unknown action/],
    [
      "a button value naming no approval",
      clickBody("sluice_approve", { actions: [{ action_id: "sluice_approve", value: "{}" }] }),
      /button value/,
    ],
    ["no user", clickBody("sluice_approve", { user: {} }), /user/],
  ];

  for (const [what, body, message] of cases) {
    it(`refuses ${what} as bad input and decides nothing`, async () => {
      const { ports, decisions } = fakes();

      const refused = receiveSlackInteraction(ports, signed(body));

      await expect(refused).rejects.toMatchObject({ name: "BadRequestError" });
      await expect(refused).rejects.toThrow(message);
      expect(decisions).toEqual([]);
    });
  }
});
