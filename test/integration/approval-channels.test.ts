import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { BadRequestException, SESv2Client, SendEmailCommand } from "@aws-sdk/client-sesv2";
import { DeleteParameterCommand, GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alsoNotify, approvalNotifier, ChannelNotifier } from "../../adapters/approval-notifier";
import { EmailChannel } from "../../adapters/email-channel";
import { SlackChannel } from "../../adapters/slack-channel";
import { slackParameterNames } from "../../adapters/slack-parameters";
import { SlackSettings } from "../../adapters/slack-settings";
import { TransientError } from "../../domain/errors";
import { startTestStack } from "../support/local-stack";
import { sampleRequest } from "../unit/approvals/request-sample";

// biome-ignore lint/suspicious/noExplicitAny: tests read answers loosely and assert on them
type Json = any;

let stack: Awaited<ReturnType<typeof startTestStack>>;
let ses: SESv2Client;
const inbox: string[] = [];

beforeAll(async () => {
  stack = await startTestStack(undefined, undefined, undefined, {
    ses: { inbox: (line) => inbox.push(line) },
  });
  ses = new SESv2Client({ maxAttempts: 1 });
});
afterAll(() => stack.cleanup());

function onPath(command: string): boolean {
  return (process.env.PATH ?? "")
    .split(path.delimiter)
    .some((dir) => dir !== "" && existsSync(path.join(dir, command)));
}

const emailDir = () => path.join(stack.stateDir, "outbox", "email");
const slackDir = () => path.join(stack.stateDir, "outbox", "slack");

async function files(dir: string, suffix: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith(suffix)).sort();
}

/** Files of `dir` that were not there before `act` ran. */
async function newFiles(dir: string, suffix: string, act: () => Promise<unknown>) {
  const before = new Set(await files(dir, suffix));
  await act();
  return (await files(dir, suffix)).filter((n) => !before.has(n));
}

function notifier(): ChannelNotifier {
  const settings = new SlackSettings(new SSMClient({}), stack.resources.secretsPrefix);
  return new ChannelNotifier({
    slack: new SlackChannel(() => settings.webhookUrl()),
    email: new EmailChannel(ses, "sluice@localhost"),
  });
}

describe("the local SES", () => {
  it("writes a sent mail as an .eml with its text and HTML, named by time and recipient", async () => {
    const added = await newFiles(emailDir(), ".eml", () =>
      ses.send(
        new SendEmailCommand({
          FromEmailAddress: "sluice@localhost",
          Destination: { ToAddresses: ["Ada <ada@example.com>"], CcAddresses: ["bob@example.com"] },
          Content: {
            Simple: {
              Subject: { Data: "Approval needed: shop 1.2.0 ✓" },
              Body: {
                Text: { Data: "Open https://sluice.example/approvals/t1 to decide." },
                Html: { Data: '<p>Open <a href="https://sluice.example/approvals/t1">it</a></p>' },
              },
            },
          },
        }),
      ),
    );

    expect(added).toHaveLength(1);
    const name = added[0] as string;
    expect(name).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z-\d{4}-ada@example\.com\.eml$/);
    const mail = await simpleParser(await readFile(path.join(emailDir(), name)));
    expect(mail.subject).toBe("Approval needed: shop 1.2.0 ✓");
    expect(mail.from?.text).toBe("sluice@localhost");
    expect(JSON.stringify(mail.to)).toContain("ada@example.com");
    expect(mail.text?.trim()).toBe("Open https://sluice.example/approvals/t1 to decide.");
    expect(mail.html).toContain('href="https://sluice.example/approvals/t1"');
    expect(mail.messageId).toMatch(/@us-east-1\.amazonses\.com>$/);
    expect(inbox.at(-1)).toBe(
      "mail to ada@example.com, bob@example.com: https://sluice.example/approvals/t1",
    );
  });

  it("takes Raw content as the message it is", async () => {
    const raw = [
      "From: sluice@localhost",
      "To: carol@example.com",
      "Subject: raw one",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "hello",
      "",
    ].join("\r\n");

    const added = await newFiles(emailDir(), ".eml", () =>
      ses.send(new SendEmailCommand({ Content: { Raw: { Data: Buffer.from(raw) } } })),
    );

    expect(added).toHaveLength(1);
    expect(added[0]).toMatch(/-carol@example\.com\.eml$/);
    const mail = await simpleParser(await readFile(path.join(emailDir(), added[0] as string)));
    expect(mail.subject).toBe("raw one");
    expect(mail.text?.trim()).toBe("hello");
  });

  const refusals: [string, ConstructorParameters<typeof SendEmailCommand>[0], RegExp][] = [
    [
      "no From address",
      {
        Destination: { ToAddresses: ["a@example.com"] },
        Content: { Simple: { Subject: { Data: "s" }, Body: { Text: { Data: "t" } } } },
      },
      /FromEmailAddress is required/,
    ],
    [
      "no recipient",
      {
        FromEmailAddress: "sluice@localhost",
        Content: { Simple: { Subject: { Data: "s" }, Body: { Text: { Data: "t" } } } },
      },
      /Destination must have/,
    ],
    [
      "an address that is not one",
      {
        FromEmailAddress: "sluice@localhost",
        Destination: { ToAddresses: ["not an address"] },
        Content: { Simple: { Subject: { Data: "s" }, Body: { Text: { Data: "t" } } } },
      },
      /Illegal address in Destination: "not an address"/,
    ],
    [
      "no body",
      {
        FromEmailAddress: "sluice@localhost",
        Destination: { ToAddresses: ["a@example.com"] },
        Content: { Simple: { Subject: { Data: "s" }, Body: {} } },
      },
      /Body must have Text, Html or both/,
    ],
    [
      "empty content",
      { FromEmailAddress: "sluice@localhost", Content: {} },
      /exactly one of Simple, Raw or Template/,
    ],
  ];
  for (const [what, input, message] of refusals) {
    it(`refuses a mail with ${what}, as SES does, and writes nothing`, async () => {
      let error: unknown;
      const added = await newFiles(emailDir(), ".eml", () =>
        ses.send(new SendEmailCommand(input)).catch((err: unknown) => {
          error = err;
        }),
      );

      expect(error).toBeInstanceOf(BadRequestException);
      expect((error as Error).message).toMatch(message);
      expect((error as BadRequestException).$metadata.httpStatusCode).toBe(400);
      expect(added).toEqual([]);
    });
  }

  // The AWS CLI is no dependency of the project: where it is not installed, this is skipped.
  it.skipIf(!onPath("aws"))("answers the AWS CLI's sesv2 send-email", async () => {
    const added = await newFiles(emailDir(), ".eml", async () => {
      const { stdout } = await promisify(execFile)(
        "aws",
        [
          "sesv2",
          "send-email",
          "--endpoint-url",
          stack.endpoints.ses,
          "--from-email-address",
          "sluice@localhost",
          "--destination",
          "ToAddresses=dave@example.com",
          "--content",
          JSON.stringify({
            Simple: { Subject: { Data: "from the CLI" }, Body: { Text: { Data: "hi" } } },
          }),
        ],
        { env: { ...process.env, ...stack.env, AWS_DEFAULT_REGION: "us-east-1" } },
      );
      expect(JSON.parse(stdout).MessageId).toMatch(/-000000$/);
    });

    expect(added).toHaveLength(1);
    expect(added[0]).toMatch(/-dave@example\.com\.eml$/);
  });
});

describe("the local Slack", () => {
  it("is set up in the local SSM: a webhook URL and a signing secret", async () => {
    const names = slackParameterNames(stack.resources.secretsPrefix);
    const ssm = new SSMClient({});
    const read = async (name: string) =>
      (await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter;

    const [url, secret] = await Promise.all([read(names.webhookUrl), read(names.signingSecret)]);

    expect(url).toMatchObject({ Type: "SecureString", Value: stack.services.slack.webhookUrl });
    expect(secret?.Type).toBe("SecureString");
    expect(secret?.Value).toMatch(/^[0-9a-f]{32}$/);
  });

  it("answers a webhook post as Slack does, and refuses a payload without text or blocks", async () => {
    const post = (body: string) =>
      fetch(stack.services.slack.webhookUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });

    const ok = await post(JSON.stringify({ text: "hello" }));
    const empty = await post(JSON.stringify({ username: "x" }));
    const broken = await post("{");

    expect([ok.status, await ok.text()]).toEqual([200, "ok"]);
    expect([empty.status, await empty.text()]).toEqual([400, "no_text"]);
    expect([broken.status, await broken.text()]).toEqual([400, "invalid_payload"]);
  });
});

describe("the approval notifier", () => {
  it("is the stack's one way out: its channels from the environment, and any listener of the process", async () => {
    const heard: string[] = [];
    const stop = alsoNotify({ request: async (r) => void heard.push(r.runId) });
    let mails: string[] = [];

    const slack = await newFiles(slackDir(), ".json", async () => {
      mails = await newFiles(emailDir(), ".eml", () =>
        approvalNotifier().request(sampleRequest({ runId: "01JWIREDRUN000000000000000" })),
      );
    });
    stop();

    expect(heard).toEqual(["01JWIREDRUN000000000000000"]);
    expect(slack).toHaveLength(1);
    expect(mails).toHaveLength(2);
    const mail = await simpleParser(await readFile(path.join(emailDir(), mails[0] as string)));
    expect(mail.from?.text).toBe("sluice@localhost");
  });

  it("posts the Slack message and sends each approver a mail with only their link", async () => {
    const request = sampleRequest();
    const lines = inbox.length;
    let mails: string[] = [];

    const slack = await newFiles(slackDir(), ".json", async () => {
      mails = await newFiles(emailDir(), ".eml", () => notifier().request(request));
    });

    expect(slack).toHaveLength(1);
    const posted: Json = JSON.parse(
      await readFile(path.join(slackDir(), slack[0] as string), "utf8"),
    );
    expect(posted.text).toContain("Approval needed: shop");
    expect(posted.blocks.at(-1).elements.map((e: Json) => e.action_id)).toEqual([
      "sluice_approve",
      "sluice_reject",
    ]);
    expect(mails).toHaveLength(2);
    const parsed = await Promise.all(
      mails.map(async (name) => simpleParser(await readFile(path.join(emailDir(), name)))),
    );
    const byRecipient = Object.fromEntries(
      parsed.map((m) => [JSON.stringify(m.to).match(/"address":"([^"]+)"/)?.[1], m]),
    );
    expect(byRecipient["ada@example.com"]?.text).toContain("/approvals/tok-ada");
    expect(byRecipient["ada@example.com"]?.text).not.toContain("tok-bob");
    expect(byRecipient["ada@example.com"]?.html).toContain("/approvals/tok-ada");
    expect(byRecipient["bob@example.com"]?.text).toContain("/approvals/tok-bob");
    expect(inbox.slice(lines).sort()).toEqual([
      "mail to ada@example.com: https://sluice.example/approvals/tok-ada",
      "mail to bob@example.com: https://sluice.example/approvals/tok-bob",
    ]);
  });

  it("sends mails only when the request does not ask for Slack", async () => {
    const slack = await newFiles(slackDir(), ".json", () =>
      notifier().request(sampleRequest({ slack: false })),
    );

    expect(slack).toEqual([]);
  });

  it("fails as Transient when SES is throttling, so the state machine sends it again", async () => {
    stack.faults.inject({
      service: "ses",
      operation: "SendEmail",
      times: 1,
      error: {
        type: "TooManyRequestsException",
        status: 429,
        message: "Maximum sending rate exceeded.",
      },
    });

    const sending = notifier().request(sampleRequest({ slack: false }));

    await expect(sending).rejects.toBeInstanceOf(TransientError);
    await expect(sending).rejects.toThrow(/SES could not send the approval mail now/);
    stack.faults.clear();
  });

  it("fails as Transient when SSM cannot tell the Slack webhook's URL for a moment", async () => {
    stack.faults.inject({
      service: "ssm",
      operation: "GetParameter",
      times: 1,
      error: { type: "ThrottlingException", status: 400, message: "Rate exceeded" },
    });
    const settings = new SlackSettings(
      new SSMClient({ maxAttempts: 1 }),
      stack.resources.secretsPrefix,
    );
    const throttled = new ChannelNotifier({
      slack: new SlackChannel(() => settings.webhookUrl()),
      email: new EmailChannel(ses, "sluice@localhost"),
    });

    const sending = throttled.request(sampleRequest({ links: [] }));

    await expect(sending).rejects.toBeInstanceOf(TransientError);
    stack.faults.clear();
  });

  it("still mails the others when SES refuses one address for good", async () => {
    const request = sampleRequest({
      slack: false,
      links: [
        { email: "not an address", url: "https://sluice.example/approvals/tok-x" },
        { email: "bob@example.com", url: "https://sluice.example/approvals/tok-bob" },
      ],
    });

    const mails = await newFiles(emailDir(), ".eml", () => notifier().request(request));

    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatch(/bob@example\.com/);
  });

  it("skips Slack, without failing, when no webhook URL is set up", async () => {
    const names = slackParameterNames(stack.resources.secretsPrefix);
    await new SSMClient({}).send(new DeleteParameterCommand({ Name: names.webhookUrl }));

    const slack = await newFiles(slackDir(), ".json", () => notifier().request(sampleRequest()));

    expect(slack).toEqual([]);
  });
});

describe("the local Slack app across a restart", () => {
  // Last in this file: a stack's start points the process's SDK clients at it.
  it("keeps its signing secret, and its webhook URL follows the port it listens on", async () => {
    const stateDir = await mkdtemp(path.join(tmpdir(), "sluice-slack-"));
    const names = slackParameterNames(stack.resources.secretsPrefix);
    const read = async (endpoint: string) => {
      const ssm = new SSMClient({ endpoint });
      const value = async (name: string) =>
        (await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter
          ?.Value;
      return { url: await value(names.webhookUrl), secret: await value(names.signingSecret) };
    };
    try {
      const first = await startTestStack(stateDir);
      const before = await read(first.endpoints.ssm);
      await first.stop();

      const second = await startTestStack(stateDir);
      try {
        const after = await read(second.endpoints.ssm);

        expect(after.secret).toBe(before.secret);
        expect(after.url).toBe(second.services.slack.webhookUrl);
      } finally {
        await second.stop();
      }
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
