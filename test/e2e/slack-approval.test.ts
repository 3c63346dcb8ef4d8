import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { slackParameterNames } from "../../adapters/slack-parameters";
import { slackSignature } from "../../domain/slack-signature";
import { api, startTestStack, waitFor } from "../support/local-stack";

// biome-ignore lint/suspicious/noExplicitAny: tests read answers loosely and assert on them
type Json = any;

let stack: Awaited<ReturnType<typeof startTestStack>>;
let secret: string;

beforeAll(async () => {
  stack = await startTestStack();
  const { Parameter } = await new SSMClient({}).send(
    new GetParameterCommand({
      Name: slackParameterNames(stack.resources.secretsPrefix).signingSecret,
      WithDecryption: true,
    }),
  );
  secret = Parameter?.Value ?? "";
});
afterAll(() => stack.cleanup());

const outbox = (channel: string) => path.join(stack.stateDir, "outbox", channel);
/** The channel's finished files: one still being written is a `.tmp` until it is renamed. */
const listed = async (channel: string) =>
  (await readdir(outbox(channel)).catch(() => [] as string[]))
    .filter((name) => !name.endsWith(".tmp"))
    .sort();
const readJson = async (name: string): Promise<Json> =>
  JSON.parse(await readFile(path.join(outbox("slack"), name), "utf8"));

/** Clicks `action` on message `id` as Slack user `user`; gives the file its answer made. */
async function click(id: string, user: string, action = "sluice_approve"): Promise<string> {
  const original = await readJson(`${id}.json`);
  const button = original.blocks
    .find((b: Json) => b.type === "actions")
    .elements.find((e: Json) => e.action_id === action);
  const payload = {
    type: "block_actions",
    user: { id: user },
    actions: [{ action_id: action, value: button.value, type: "button" }],
    response_url: stack.services.slack.responseUrl(id),
    message: original,
  };
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const timestamp = String(Math.floor(Date.now() / 1000));
  const before = new Set(await listed("slack"));
  const res = await fetch(`${stack.endpoints.api}/slack/interactions`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": timestamp,
      "x-slack-signature": slackSignature(secret, timestamp, body),
    },
    body,
  });
  expect(res.status).toBe(200);
  const added = (await listed("slack")).filter((n) => !before.has(n));
  expect(added).toHaveLength(1);
  return added[0] as string;
}

async function runOf(id: string): Promise<Json> {
  return (await api(stack, "GET", `/runs/${id}`)).body;
}

describe("an approval decided from its Slack message", () => {
  it("asks in Slack and by mail, counts two approvers' clicks, then the run goes on", async () => {
    // Prepare: two approvers, both needed, each with a Slack id and an address
    const put = await api(
      stack,
      "PUT",
      "/apps/clicked",
      stringify({
        stages: [
          {
            name: "sign-off",
            approval: {
              requiredApprovals: 2,
              slack: true,
              approvers: [
                { email: "ada@example.com", slack: "U0ADA" },
                { email: "bob@example.com", slack: "U0BOB" },
              ],
            },
          },
        ],
      }),
    );
    expect(put.status, JSON.stringify(put.body)).toBe(201);
    const created = await api(stack, "POST", "/apps/clicked/runs", {
      revision: { type: "git", commit: "0123456789abcdef0123456789abcdef01234567" },
    });
    const runId: string = created.body.id;

    // The request arrives: one Slack message, one mail per approver
    const message = await waitFor(
      async () => (await listed("slack")).find((n) => /^[\dTZ-]+-\d{4}\.json$/.test(n)),
      { what: "the approval's Slack message", timeoutMs: 20_000 },
    );
    const id = message.slice(0, -".json".length);
    const mails = await waitFor(
      async () => {
        const found = await listed("email");
        return found.length >= 2 ? found : undefined;
      },
      { what: "a mail per approver" },
    );
    expect(mails.map((n) => n.replace(/^.*-\d{4}-/, ""))).toEqual([
      expect.stringMatching(/@example\.com\.eml$/),
      expect.stringMatching(/@example\.com\.eml$/),
    ]);
    expect((await readJson(message)).blocks.at(-1).type).toBe("actions");

    // A stranger's click is refused, to them alone, and changes nothing
    const stranger = await click(id, "U0EVE");
    expect(stranger).toContain(`-reply-to-${id}`);
    expect((await readJson(stranger)).response_type).toBe("ephemeral");

    // Act: the first approver's click counts one of two and keeps the buttons
    const first = await readJson(await click(id, "U0ADA"));
    expect(first.text).toContain("<@U0ADA> approved: 1 of 2 approvals");
    expect(first.blocks.some((b: Json) => b.type === "actions")).toBe(true);
    expect((await runOf(runId)).status).toBe("RUNNING");

    // The second approver's click approves: the buttons go and the run goes on
    const second = await readJson(await click(id, "U0BOB"));
    expect(second.text).toContain("Approved by <@U0BOB>");
    expect(second.blocks.some((b: Json) => b.type === "actions")).toBe(false);
    const ended = await waitFor(
      async () => {
        const run = await runOf(runId);
        return run.status === "SUCCEEDED" ? run : undefined;
      },
      { what: "the run to succeed" },
    );
    expect(ended.stages.find((s: Json) => s.name === "sign-off").status).toBe("SUCCEEDED");
  });

  it("rejects the run from the Reject button", async () => {
    const put = await api(
      stack,
      "PUT",
      "/apps/refused",
      stringify({
        stages: [{ name: "sign-off", approval: { slack: true, approvers: [{ slack: "U0ADA" }] } }],
      }),
    );
    expect(put.status, JSON.stringify(put.body)).toBe(201);
    const before = new Set(await listed("slack"));
    const created = await api(stack, "POST", "/apps/refused/runs", {
      revision: { type: "git", commit: "0123456789abcdef0123456789abcdef01234567" },
    });
    const message = await waitFor(
      async () =>
        (await listed("slack")).find((n) => !before.has(n) && /^[\dTZ-]+-\d{4}\.json$/.test(n)),
      { what: "the approval's Slack message", timeoutMs: 20_000 },
    );

    const answer = await readJson(await click(message.slice(0, -5), "U0ADA", "sluice_reject"));

    expect(answer.text).toContain("Rejected by <@U0ADA>");
    await waitFor(
      async () => ((await runOf(created.body.id)).status === "FAILED" ? true : undefined),
      { what: "the run to end rejected" },
    );
  });
});
