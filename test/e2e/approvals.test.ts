import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import chromium from "@sparticuz/chromium";
import { simpleParser } from "mailparser";
import { chromium as playwright } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { alsoNotify } from "../../adapters/approval-notifier";
import { main } from "../../cli/main";
import type { ApprovalRequest } from "../../domain/approval-request";
import { linkTokenHash, newLinkToken } from "../../domain/approval-tokens";
import { TransientError } from "../../domain/errors";
import { PROJECT_ROOT } from "../../local/stack";
import { expectEventsToMatchSchemaFiles } from "../support/event-schemas";
import { api, portsOf, startTestStack, waitFor } from "../support/local-stack";

// biome-ignore lint/suspicious/noExplicitAny: tests read answers loosely and assert on them
type Json = any;

/**
 * One stack for every approval case. Task timeouts run at 0.003 of their length, so a
 * 5-minute approval times out in 0.9 s; every other approval here waits 60 days (4.3 hours).
 * Most cases read the links from what the notifier was handed; the browser reads its link from
 * the mail in the local outbox (`<state>/outbox/email/*.eml`), as a person would.
 */
let stack: Awaited<ReturnType<typeof startTestStack>>;
let stateDir: string;
const requests: ApprovalRequest[] = [];
/** Apps whose next request the notifier fails, as a channel that is down does. */
const failNext = new Set<string>();
const stopListening = alsoNotify({
  request: async (r) => {
    requests.push(r);
    if (!failNext.delete(r.app)) return;
    throw new TransientError("the mail service is down");
  },
});
const SIXTY_DAYS = 60 * 24 * 60;
const TIMING = { waitScale: 0.0001, taskTimeoutScale: 0.003, retryScale: 0.01 };
const COMMIT = "c".repeat(40);

beforeAll(async () => {
  stateDir = await mkdtemp(path.join(tmpdir(), "sluice-approvals-"));
  stack = await startTestStack(stateDir, undefined, TIMING);
});
afterAll(async () => {
  stopListening();
  await stack.stop();
  await rm(stateDir, { recursive: true, force: true });
});

/** A request signed as the local user `name`, as `sluice` signs for a local API. */
function as(name: string): Record<string, string> {
  return {
    authorization: `AWS4-HMAC-SHA256 Credential=local-${name}/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=00`,
  };
}
const arnOf = (name: string) => `arn:aws:iam::000000000000:user/${name}`;

async function register(app: string, approval: Record<string, unknown>, after = true) {
  const stages = [
    { name: "checks", wait: { seconds: 1 } },
    { name: "sign-off", approval: { timeoutMinutes: SIXTY_DAYS, ...approval } },
    ...(after ? [{ name: "after", wait: { seconds: 1 } }] : []),
  ];
  const res = await api(
    stack,
    "PUT",
    `/apps/${app}`,
    stringify({ executionMode: "parallel", stages }),
  );
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

/** Starts a run of COMMIT; `author` is the commit's author email, as a push would tell. */
async function startRun(app: string, author?: string): Promise<string> {
  const created = await api(stack, "POST", `/apps/${app}/runs`, {
    revision: { type: "git", commit: COMMIT },
    ...(author ? { change: { message: "Fix the total", author: { email: author } } } : {}),
  });
  expect(created.status, JSON.stringify(created.body)).toBe(202);
  return created.body.id;
}

const getRun = async (id: string): Promise<Json> => (await api(stack, "GET", `/runs/${id}`)).body;
const approvalStep = (run: Json, attempt = run.attempt) =>
  run.steps.find((s: Json) => s.step === "sign-off" && s.attempt === attempt);

async function runIs(id: string, ...statuses: string[]): Promise<Json> {
  return waitFor(
    async () => {
      const run = await getRun(id);
      return statuses.includes(run.status) ? run : undefined;
    },
    { what: `run ${id} to be ${statuses.join(" or ")}`, timeoutMs: 20_000 },
  );
}

/** The request the notifier got for the run's attempt, once it was sent and recorded. */
async function requestFor(runId: string, attempt = 1): Promise<ApprovalRequest> {
  const request = await waitFor(
    async () => requests.find((r) => r.runId === runId && r.attempt === attempt),
    { what: `the approval request of run ${runId}`, timeoutMs: 20_000 },
  );
  await waitFor(
    async () => (approvalStep(await getRun(runId), attempt)?.request?.sentAt ? true : undefined),
    {
      what: "the request to be recorded as sent",
    },
  );
  return request;
}

function linkOf(request: ApprovalRequest, email: string): string {
  const link = request.links.find((l) => l.email === email);
  if (!link) throw new Error(`no link for ${email}`);
  return link.url;
}

/** The approval link in the mail the local SES wrote for `to` about run `runId`. */
async function linkInMail(runId: string, to: string): Promise<string> {
  const folder = path.join(stateDir, "outbox", "email");
  return waitFor(
    async () => {
      for (const name of await readdir(folder).catch(() => [] as string[])) {
        if (!name.endsWith(`-${to}.eml`)) continue;
        const mail = await simpleParser(await readFile(path.join(folder, name)));
        if (!mail.text?.includes(runId)) continue;
        const link = /https?:\/\/\S+\/approvals\/[\w.-]+/.exec(mail.text)?.[0];
        if (link) return link;
      }
      return undefined;
    },
    { what: `the mail to ${to} about run ${runId}` },
  );
}

async function post(url: string, decision: string, comment?: string) {
  const body = new URLSearchParams({ decision, ...(comment ? { comment } : {}) });
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

async function lifecycle(id: string): Promise<string[]> {
  const events = await stack.eventBridge.read();
  return events
    .filter((e) => (e.detail as { runId?: string }).runId === id)
    .map((e) => e["detail-type"])
    .filter((t) => t.startsWith("Approval"));
}

describe("a personal approval link", () => {
  it("shows the approval on GET and HEAD, deciding nothing; its POST resumes the run once", async () => {
    await register("linked", { approvers: [{ email: "ana@example.com" }] });
    const id = await startRun("linked");
    const request = await requestFor(id);
    const url = linkOf(request, "ana@example.com");
    expect(request).toMatchObject({
      app: "linked",
      stage: "sign-off",
      requiredApprovals: 1,
      slack: true,
      evidence: expect.arrayContaining([{ stage: "checks", status: "SUCCEEDED" }]),
    });
    expect(url).toMatch(new RegExp(`^${stack.endpoints.api}/approvals/[\\w-]{43}\\.[\\w-]{22}$`));

    const shown = await fetch(url);
    const head = await fetch(url, { method: "HEAD" });
    const html = await shown.text();

    expect(shown.status).toBe(200);
    expect(html).toContain("ana@example.com");
    expect(html).toContain('<form method="post">');
    expect(shown.headers.get("cache-control")).toBe("no-store");
    expect(shown.headers.get("referrer-policy")).toBe("no-referrer");
    expect(shown.headers.get("x-robots-tag")).toContain("noindex");
    expect(shown.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const waiting = await getRun(id);
    expect(waiting.status).toBe("RUNNING");
    expect(approvalStep(waiting)).toMatchObject({ status: "RUNNING" });
    expect(approvalStep(waiting).votes).toBeUndefined();

    const decided = await post(url, "approve", "ship <it>");
    expect(decided.status, decided.text).toBe(200);
    expect(decided.text).toContain("Approved");
    const ended = await runIs(id, "SUCCEEDED", "FAILED");
    expect(ended.status).toBe("SUCCEEDED");
    expect(ended.stages.find((s: Json) => s.name === "sign-off").message).toBe(
      "approved by ana@example.com: ship <it>",
    );
    expect(ended.stages.at(-1)).toMatchObject({ name: "after", status: "SUCCEEDED" });

    const again = await post(url, "approve");
    expect(again.status).toBe(409);
    expect(again.text).toContain("already used");
    expect((await fetch(url)).status).toBe(409);
    await waitFor(async () => ((await lifecycle(id)).length >= 2 ? true : undefined));
    expect(await lifecycle(id)).toEqual(["Approval Requested", "Approval Decided"]);
  });

  it("refuses forged, unknown, expired and foreign tokens with a page, and changes nothing", async () => {
    await register("guarded", {
      approvers: [{ email: "ana@example.com" }, { email: "bo@example.com" }, { iam: arnOf("cy") }],
    });
    const id = await startRun("guarded");
    const first = await requestFor(id);
    const ana = linkOf(first, "ana@example.com");
    const bo = linkOf(first, "bo@example.com");
    const token = ana.split("/").at(-1) ?? "";
    const forged = `${ana.slice(0, -2)}${ana.endsWith("AA") ? "BB" : "AA"}`;
    const { Parameter } = await new SSMClient({}).send(
      new GetParameterCommand({
        Name: `${stack.resources.secretsPrefix}/approval-link-key`,
        WithDecryption: true,
      }),
    );
    const unknown = `${stack.endpoints.api}/approvals/${newLinkToken(Buffer.from(Parameter?.Value ?? "", "base64"))}`;

    const refusals = [await post(forged, "approve"), await post(unknown, "approve")];
    expect(refusals.map((r) => r.status)).toEqual([403, 404]);
    expect(refusals[0]?.text).toContain("not one Sluice made");
    expect(refusals[0]?.headers.get("content-type")).toContain("text/html");

    // Expired: the approval's timeout, as the link keeps it, has passed.
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    const hash = linkTokenHash(token);
    await doc.send(
      new UpdateCommand({
        TableName: stack.resources.table,
        Key: { pk: `APPROVAL#${hash}`, sk: "LINK" },
        UpdateExpression: "SET validUntil = :past",
        ExpressionAttributeValues: { ":past": "2020-01-01T00:00:00.000Z" },
      }),
    );
    const expired = await post(ana, "approve");
    expect(expired.status).toBe(410);
    expect(expired.text).toContain("expired");
    expect(approvalStep(await getRun(id)).votes).toBeUndefined();

    // Foreign: bo's link of attempt 1, after a rejection and a retry asked again.
    const cy = await api(stack, "POST", `/runs/${id}/approval`, { decision: "reject" }, as("cy"));
    expect(cy.body).toMatchObject({ outcome: "rejected", by: arnOf("cy") });
    const rejected = await runIs(id, "FAILED");
    expect(rejected.error).toMatchObject({ error: "Sluice.Rejected", code: "APPROVAL_REJECTED" });
    expect((await post(bo, "approve")).status).toBe(409);
    expect((await api(stack, "POST", `/runs/${id}/retry`, {})).status).toBe(200);
    const second = await requestFor(id, 2);
    expect(linkOf(second, "bo@example.com")).not.toBe(bo);
    const foreign = await post(bo, "approve");
    expect(foreign.status).toBe(409);
    expect(foreign.text).toContain("no longer waits");
    expect(approvalStep(await getRun(id), 2).votes).toBeUndefined();

    expect((await post(linkOf(second, "bo@example.com"), "approve")).status).toBe(200);
    expect((await runIs(id, "SUCCEEDED", "FAILED")).status).toBe("SUCCEEDED");
  });
});

describe("the logs", () => {
  it("never hold a link's token, whatever the link did", async () => {
    await register("quiet", { approvers: [{ email: "ana@example.com" }] });
    const written: string[] = [];
    const capture = (stream: NodeJS.WriteStream) => {
      const write = stream.write.bind(stream);
      stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
        written.push(String(chunk));
        return write(chunk, ...rest);
      }) as typeof stream.write;
      return () => {
        stream.write = write;
      };
    };
    const level = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = "debug";
    const restore = [capture(process.stdout), capture(process.stderr)];
    try {
      const id = await startRun("quiet");
      const url = linkOf(await requestFor(id), "ana@example.com");
      await fetch(url);
      await post(url, "approve");
      await post(url, "approve");
      await post(`${url.slice(0, -2)}AA`, "approve");
      await runIs(id, "SUCCEEDED");
      const token = url.split("/").at(-1) ?? "";
      const random = token.split(".")[0] ?? "";

      expect(written.join("")).toContain("approval link refused");
      expect(written.join("")).not.toContain(random);
    } finally {
      for (const undo of restore) undo();
      process.env.LOG_LEVEL = level;
    }
  });
});

describe("a request and its answer, when a service fails", () => {
  it("revokes the links of a request that never went out, and sends new ones", async () => {
    await register("flaky-mail", { approvers: [{ email: "ana@example.com" }] });
    failNext.add("flaky-mail");
    const id = await startRun("flaky-mail");

    const [failed, sent] = await waitFor(
      async () => {
        const made = requests.filter((r) => r.runId === id);
        return made.length === 2 ? made : undefined;
      },
      { what: "the request to be sent again" },
    );
    await requestFor(id);

    expect(approvalStep(await getRun(id)).request).toMatchObject({ generation: 2, links: 1 });
    const revoked = await post(linkOf(failed as ApprovalRequest, "ana@example.com"), "approve");
    expect(revoked.status).toBe(409);
    expect(revoked.text).toContain("a newer request replaced it");
    expect((await post(linkOf(sent as ApprovalRequest, "ana@example.com"), "approve")).status).toBe(
      200,
    );
    expect((await runIs(id, "SUCCEEDED", "FAILED")).status).toBe("SUCCEEDED");
    expect(await lifecycle(id)).toEqual(["Approval Requested", "Approval Decided"]);
  });

  it("resumes the run on a later call when resuming it failed after the decision was written", async () => {
    await register("lost-answer", { approvers: [{ email: "ana@example.com" }] });
    const id = await startRun("lost-answer");
    const url = linkOf(await requestFor(id), "ana@example.com");
    stack.faults.inject({
      service: "stepFunctions",
      operation: "SendTaskSuccess",
      times: 3,
      error: { type: "ServiceUnavailable", status: 503 },
    });

    const first = await post(url, "approve");
    const stuck = await getRun(id);
    const again = await post(url, "approve");

    expect(first.status).toBe(503);
    expect(stuck.status).toBe("RUNNING");
    expect(approvalStep(stuck).approval).toMatchObject({ decision: "approve" });
    expect(again.status).toBe(409);
    expect((await runIs(id, "SUCCEEDED", "FAILED")).status).toBe("SUCCEEDED");
    expect(stack.faults.injected.filter((c) => c === "stepFunctions:SendTaskSuccess")).toHaveLength(
      3,
    );
    stack.faults.clear();
  });
});

describe("who may approve", () => {
  it("refuses the change's author when self-approval is forbidden, and records the refusal", async () => {
    await register("no-self", {
      approvers: [{ email: "alice@example.com", iam: arnOf("alice") }, { iam: arnOf("bob") }],
      forbidSelfApproval: true,
    });
    const id = await startRun("no-self", "alice@example.com");
    const request = await requestFor(id);

    const byLink = await post(linkOf(request, "alice@example.com"), "approve");
    const byApi = await api(
      stack,
      "POST",
      `/runs/${id}/approval`,
      { decision: "approve" },
      as("alice"),
    );
    const stranger = await api(
      stack,
      "POST",
      `/runs/${id}/approval`,
      { decision: "approve" },
      as("eve"),
    );

    expect(byLink.status).toBe(403);
    expect(byLink.text).toContain("forbids approving one&#39;s own change");
    expect(byApi.status).toBe(403);
    expect(stranger.status).toBe(403);
    expect(stranger.body.message).toContain("is not an approver");
    const step = approvalStep(await getRun(id));
    expect(step.votes).toBeUndefined();
    expect(step.refusals.map((r: Json) => [r.by, r.via])).toEqual([
      ["alice@example.com", "link"],
      ["alice@example.com", "api"],
      [arnOf("eve"), "api"],
    ]);

    const bob = await api(
      stack,
      "POST",
      `/runs/${id}/approval`,
      { decision: "approve" },
      as("bob"),
    );
    expect(bob.body).toEqual({ outcome: "approved", by: arnOf("bob"), approvals: 1, required: 1 });
    expect((await runIs(id, "SUCCEEDED", "FAILED")).status).toBe("SUCCEEDED");
    expect(await lifecycle(id)).toEqual([
      "Approval Requested",
      "Approval Refused",
      "Approval Refused",
      "Approval Refused",
      "Approval Decided",
    ]);
  });

  it("needs two distinct approvers when two are required; the same one twice counts once", async () => {
    await register("two-keys", {
      approvers: [{ email: "ana@example.com", iam: arnOf("ana") }, { email: "bo@example.com" }],
      requiredApprovals: 2,
    });
    const id = await startRun("two-keys");
    const request = await requestFor(id);

    const ana = await post(linkOf(request, "ana@example.com"), "approve");
    const anaAgain = await api(
      stack,
      "POST",
      `/runs/${id}/approval`,
      { decision: "approve" },
      as("ana"),
    );

    expect(ana.text).toContain("1 of 2 approvals");
    expect(anaAgain.body).toEqual({
      outcome: "recorded",
      by: "ana@example.com",
      approvals: 1,
      required: 2,
    });
    expect((await getRun(id)).status).toBe("RUNNING");
    const bo = await post(linkOf(request, "bo@example.com"), "approve");
    expect(bo.text).toContain("Approved");
    expect((await runIs(id, "SUCCEEDED", "FAILED")).status).toBe("SUCCEEDED");
  });

  it("lets exactly one of two approvers clicking at the same moment settle the approval", async () => {
    await register("race", {
      approvers: [{ email: "ana@example.com" }, { email: "bo@example.com" }],
    });
    const id = await startRun("race");
    const request = await requestFor(id);

    const answers = await Promise.all([
      post(linkOf(request, "ana@example.com"), "approve"),
      post(linkOf(request, "bo@example.com"), "reject"),
    ]);

    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    const ended = await runIs(id, "SUCCEEDED", "FAILED");
    const step = approvalStep(ended);
    expect(step.votes).toHaveLength(1);
    expect(ended.status).toBe(step.votes[0].decision === "approve" ? "SUCCEEDED" : "FAILED");
    await waitFor(async () => ((await lifecycle(id)).length >= 2 ? true : undefined));
    expect(await lifecycle(id)).toEqual(["Approval Requested", "Approval Decided"]);
  });

  it("records the CLI's decisions as the local user it signs as", async () => {
    await register("cli-gate", { approvers: [{ iam: arnOf("carol") }] });
    const approved = await startRun("cli-gate");
    const rejected = await startRun("cli-gate");
    await requestFor(approved);
    await requestFor(rejected);
    const out: string[] = [];
    const io = {
      stdout: (t: string) => void out.push(t),
      stderr: (t: string) => void out.push(t),
      env: { SLUICE_API: stack.endpoints.api, SLUICE_LOCAL_USER: "carol", PATH: process.env.PATH },
    };

    expect(await main(["approve", approved, "--comment", "fine"], io)).toBe(0);
    expect(await main(["reject", rejected, "--reason", "wrong day"], io)).toBe(0);

    expect(out).toEqual([
      `run ${approved}: approved by ${arnOf("carol")}\n`,
      `run ${rejected}: rejected by ${arnOf("carol")}\n`,
    ]);
    expect((await runIs(approved, "SUCCEEDED", "FAILED")).status).toBe("SUCCEEDED");
    const failed = await runIs(rejected, "FAILED");
    expect(failed.error).toEqual({
      error: "Sluice.Rejected",
      code: "APPROVAL_REJECTED",
      cause: `rejected by ${arnOf("carol")}: wrong day`,
    });
  });
});

describe("an approval left alone", () => {
  it("times out, the run ends rejected, and its links stop working", async () => {
    await register("forgotten", { approvers: [{ email: "ana@example.com" }], timeoutMinutes: 5 });
    const id = await startRun("forgotten");
    const request = await requestFor(id);

    const failed = await runIs(id, "FAILED");

    expect(failed.error).toMatchObject({ error: "Sluice.Rejected", code: "APPROVAL_TIMED_OUT" });
    expect(failed.stages.find((s: Json) => s.name === "sign-off").status).toBe("FAILED");
    expect((await post(linkOf(request, "ana@example.com"), "approve")).status).toBe(409);
    await waitFor(async () =>
      (await lifecycle(id)).includes("Approval Timed Out") ? true : undefined,
    );
  });
});

describe("a browser", () => {
  it("opens the link, clicks Approve, and the run goes on to its next stage", async () => {
    await register("clicked", { approvers: [{ email: "ana@example.com" }] });
    const id = await startRun("clicked");
    await requestFor(id);
    const url = await linkInMail(id, "ana@example.com");
    const browser = await playwright.launch({
      executablePath: await chromium.executablePath(),
      args: chromium.args,
      headless: true,
    });
    const screenshots = path.join(PROJECT_ROOT, "test-results");
    await mkdir(screenshots, { recursive: true });
    try {
      const page = await browser.newPage();
      await page.goto(url);
      expect((await getRun(id)).status).toBe("RUNNING");
      await page.fill("textarea[name=comment]", "clicked in a browser");
      const asked = path.join(screenshots, "approval-page.png");
      await page.screenshot({ path: asked, fullPage: true });
      console.info(`approval page screenshot: ${asked}`);
      await Promise.all([page.waitForNavigation(), page.click("button[value=approve]")]);
      expect(await page.textContent("h1")).toContain("Approved");
      const shot = path.join(screenshots, "approval-approved.png");
      await page.screenshot({ path: shot });
      console.info(`approval result screenshot: ${shot}`);
    } finally {
      await browser.close();
    }
    const ended = await runIs(id, "SUCCEEDED", "FAILED");
    expect(ended.stages.at(-1)).toMatchObject({ name: "after", status: "SUCCEEDED" });
  });
});

describe("a restart of the stack", () => {
  it("keeps a pending approval's link working", async () => {
    await register("durable", { approvers: [{ email: "ana@example.com" }] });
    const id = await startRun("durable");
    const url = linkOf(await requestFor(id), "ana@example.com");
    const ports = portsOf(stack);
    await stack.stop();

    stack = await startTestStack(stateDir, ports, TIMING);

    const decided = await post(url, "approve");
    expect(decided.status, decided.text).toBe(200);
    const ended = await runIs(id, "SUCCEEDED", "FAILED");
    expect(ended.stages.at(-1)).toMatchObject({ name: "after", status: "SUCCEEDED" });
    // However often the approval task ran again, the approver got one set of links.
    expect(requests.filter((r) => r.runId === id)).toHaveLength(1);
  });
});

describe("what the approvals sent and show", () => {
  it("sends only events its schema files describe", async () => {
    const checked = await expectEventsToMatchSchemaFiles(stack);

    expect([...checked]).toEqual(
      expect.arrayContaining([
        "Approval Requested",
        "Approval Voted",
        "Approval Decided",
        "Approval Refused",
        "Approval Timed Out",
      ]),
    );
  });

  it("shows a run's approval with its request, votes and decision, and never a link", async () => {
    const decided = (await stack.eventBridge.read()).find(
      (e) => e["detail-type"] === "Approval Decided",
    );
    const runId = (decided?.detail as { runId?: string } | undefined)?.runId;
    expect(runId).toBeDefined();

    const { status, body } = await api(stack, "GET", `/runs/${runId}/approvals`);

    expect(status).toBe(200);
    expect(body.approvals).toHaveLength(1);
    expect(body.approvals[0]).toMatchObject({
      status: "SUCCEEDED",
      request: { generation: expect.any(Number), links: expect.any(Number) },
      decision: { decision: "approve", by: expect.any(String) },
    });
    expect(body.approvals[0].votes.length).toBeGreaterThan(0);
    expect(JSON.stringify(body)).not.toMatch(/token|https?:\/\//i);
  });
});
