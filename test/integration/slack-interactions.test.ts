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
  const names = slackParameterNames(stack.resources.secretsPrefix);
  const { Parameter } = await new SSMClient({}).send(
    new GetParameterCommand({ Name: names.signingSecret, WithDecryption: true }),
  );
  secret = Parameter?.Value ?? "";
});
afterAll(() => stack.cleanup());

const slackDir = () => path.join(stack.stateDir, "outbox", "slack");
/** The outbox's finished files: one still being written is a `.tmp` until it is renamed. */
const slackFiles = async () =>
  (await readdir(slackDir()).catch(() => [] as string[]))
    .filter((name) => !name.endsWith(".tmp"))
    .sort();

async function waitingRun(app: string): Promise<string> {
  const put = await api(
    stack,
    "PUT",
    `/apps/${app}`,
    stringify({ stages: [{ name: "sign-off", approval: { timeoutMinutes: 60 } }] }),
  );
  expect(put.status, JSON.stringify(put.body)).toBe(201);
  const created = await api(stack, "POST", `/apps/${app}/runs`, {
    revision: {
      type: "git",
      ref: "refs/heads/main",
      commit: "0123456789abcdef0123456789abcdef01234567",
    },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(202);
  const id: string = created.body.id;
  await waitFor(
    async () => {
      const run = (await api(stack, "GET", `/runs/${id}`)).body;
      return (
        run.stages?.find((s: Json) => s.name === "sign-off")?.status === "RUNNING" || undefined
      );
    },
    { what: `run ${id} to wait at sign-off`, timeoutMs: 20_000 },
  );
  return id;
}

/** The approval message the gate posted for `runId`: its outbox id, blocks and button value. */
async function postedMessage(
  runId: string,
): Promise<{ id: string; blocks: Json[]; value: string }> {
  return waitFor(
    async () => {
      for (const name of await slackFiles()) {
        const posted: Json = JSON.parse(await readFile(path.join(slackDir(), name), "utf8"));
        const actions = posted.blocks?.find((b: Json) => b.type === "actions");
        const value: string | undefined = actions?.elements?.[0]?.value;
        if (value && JSON.parse(value).run === runId) {
          return { id: name.slice(0, -".json".length), blocks: posted.blocks, value };
        }
      }
      return undefined;
    },
    { what: `the approval message of run ${runId} in the outbox` },
  );
}

function clickBody(
  value: string,
  responseUrl: string,
  blocks: Json[],
  actionId = "sluice_approve",
) {
  const payload = {
    type: "block_actions",
    user: { id: "U0APPROVER", username: "ada" },
    actions: [{ action_id: actionId, value, type: "button" }],
    response_url: responseUrl,
    message: { blocks },
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

function click(body: string, headers: Record<string, string>) {
  return fetch(`${stack.endpoints.api}/slack/interactions`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body,
  });
}

function signedHeaders(body: string, at = new Date(), key = secret): Record<string, string> {
  const timestamp = String(Math.floor(at.getTime() / 1000));
  return {
    "x-slack-request-timestamp": timestamp,
    "x-slack-signature": slackSignature(key, timestamp, body),
  };
}

describe("POST /slack/interactions", () => {
  let runId: string;
  let message: { id: string; blocks: Json[]; value: string };
  let body: string;

  beforeAll(async () => {
    runId = await waitingRun("slacked");
    message = await postedMessage(runId);
    body = clickBody(message.value, stack.services.slack.responseUrl(message.id), message.blocks);
  });

  const unsigned: [string, () => Record<string, string>, RegExp][] = [
    ["a bad signature", () => signedHeaders(body, new Date(), "not-the-secret"), /does not match/],
    [
      "a timestamp more than 5 minutes old",
      () => signedHeaders(body, new Date(Date.now() - 6 * 60_000)),
      /more than 5 minutes/,
    ],
    ["no signature headers", () => ({}), /missing/],
  ];
  for (const [what, headers, reason] of unsigned) {
    it(`refuses ${what} with 401, and nothing changes`, async () => {
      const before = await slackFiles();

      const res = await click(body, headers());

      expect(res.status).toBe(401);
      expect(((await res.json()) as Json).message).toMatch(reason);
      const run = (await api(stack, "GET", `/runs/${runId}`)).body;
      expect(run.status).toBe("RUNNING");
      expect(run.stages.find((s: Json) => s.name === "sign-off").status).toBe("RUNNING");
      expect(await slackFiles()).toEqual(before);
    });
  }

  it("refuses a signed request that is no click on Sluice's buttons with 400", async () => {
    const other = clickBody(
      message.value,
      stack.services.slack.responseUrl(message.id),
      [],
      "other",
    );

    const res = await click(other, signedHeaders(other));

    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).message).toMatch(/unknown action "other"/);
  });

  it("checks the signature over the bytes sent, also when API Gateway hands them base64-encoded", async () => {
    const other = clickBody(
      message.value,
      stack.services.slack.responseUrl(message.id),
      [],
      "other",
    );

    // A content type API Gateway does not take for text reaches the function base64-encoded.
    const res = await click(other, {
      ...signedHeaders(other),
      "content-type": "application/octet-stream",
    });

    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).message).toMatch(/unknown action "other"/);
  });

  it("decides on a signed click as its Slack user, and replaces the message with who approved", async () => {
    // The approval keeps its task token a moment after its stage starts: until then a click
    // is told to try again, in a reply to the clicker alone.
    const { replaced, took } = await waitFor(
      async () => {
        const sent = Date.now();
        const res = await click(body, signedHeaders(body));
        const answeredIn = Date.now() - sent;
        expect(res.status).toBe(200);
        const name = (await slackFiles()).find((n) => n.includes(`-replaces-${message.id}`));
        return name ? { replaced: name, took: answeredIn } : undefined;
      },
      { what: "the message to be replaced", timeoutMs: 10_000, intervalMs: 100 },
    );

    const update: Json = JSON.parse(await readFile(path.join(slackDir(), replaced), "utf8"));
    expect(update.replace_original).toBe(true);
    expect(update.text).toContain("Approved by <@U0APPROVER>");
    expect(update.blocks[0].type).toBe("header");
    expect(update.blocks.some((b: Json) => b.type === "actions")).toBe(false);
    // Slack gives up on an interaction not answered within 3 s.
    expect(took).toBeLessThan(3000);
    const run = await waitFor(
      async () => {
        const r = (await api(stack, "GET", `/runs/${runId}`)).body;
        return r.status === "SUCCEEDED" ? r : undefined;
      },
      { what: "the run to succeed" },
    );
    expect(run.stages.find((s: Json) => s.name === "sign-off").message).toContain(
      "slack:U0APPROVER",
    );
  });

  it("answers a click on a decided approval in a reply to the clicker alone", async () => {
    const before = new Set(await slackFiles());

    const res = await click(body, signedHeaders(body));

    expect(res.status).toBe(200);
    const added = (await slackFiles()).filter((n) => !before.has(n));
    expect(added).toHaveLength(1);
    expect(added[0]).toContain(`-reply-to-${message.id}`);
    const reply: Json = JSON.parse(
      await readFile(path.join(slackDir(), added[0] as string), "utf8"),
    );
    expect(reply).toMatchObject({ response_type: "ephemeral", replace_original: false });
    expect(reply.text).toMatch(/^Your approval was not recorded: /);
  });
});
