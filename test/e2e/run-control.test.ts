import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { RedriveExecutionCommand, SFNClient } from "@aws-sdk/client-sfn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { expectEventsToMatchSchemaFiles } from "../support/event-schemas";
import { makeGitRepo } from "../support/git-repo";
import { api, startTestStack, waitFor } from "../support/local-stack";

// biome-ignore lint/suspicious/noExplicitAny: tests read answers loosely and assert on them
type Json = any;

let stack: Awaited<ReturnType<typeof startTestStack>>;
let repo: { dir: string; commit: string };

async function register(app: string, definition: Record<string, unknown>) {
  const res = await api(stack, "PUT", `/apps/${app}`, stringify(definition));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

async function startRun(app: string): Promise<string> {
  const created = await api(stack, "POST", `/apps/${app}/runs`, {
    revision: { type: "git", ref: "refs/heads/main", commit: repo.commit },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(202);
  return created.body.id;
}

async function run(id: string): Promise<Json> {
  return (await api(stack, "GET", `/runs/${id}`)).body;
}

async function runIs(id: string, ...statuses: string[]): Promise<Json> {
  return waitFor(
    async () => {
      const body = await run(id);
      return statuses.includes(body.status) ? body : undefined;
    },
    { what: `run ${id} to be ${statuses.join(" or ")}`, timeoutMs: 20_000 },
  );
}

async function inStage(id: string, stage: string): Promise<Json> {
  return waitFor(
    async () => {
      const body = await run(id);
      const current = body.stages.find((s: Json) => s.name === stage);
      return current?.status === "RUNNING" ? body : undefined;
    },
    { what: `run ${id} to enter ${stage}`, timeoutMs: 20_000 },
  );
}

/** Waits until the approval's request is sent and its token kept, so a decision resumes it. */
async function decide(id: string, decision: "approve" | "reject", comment?: string) {
  await waitFor(
    async () => {
      const body = await run(id);
      const step = body.steps.find(
        (s: Json) => s.index === body.cursor && s.attempt === body.attempt,
      );
      return step?.request?.sentAt ? true : undefined;
    },
    { what: "the approval request to be sent" },
  );
  return waitFor(
    async () => {
      const res = await api(stack, "POST", `/runs/${id}/approval`, { decision, comment });
      return res.status === 409 && /not ready/.test(res.body.message) ? undefined : res;
    },
    { what: "the approval to be ready" },
  );
}

async function lifecycle(id: string): Promise<string[]> {
  const events = await stack.eventBridge.read();
  return events
    .filter((e) => (e.detail as { runId?: string }).runId === id)
    .map((e) => {
      const stage = (e.detail as { stage?: string }).stage;
      return stage ? `${e["detail-type"]} (${stage})` : e["detail-type"];
    });
}

beforeAll(async () => {
  stack = await startTestStack(undefined, undefined, { waitScale: 0.0001 });
  repo = await makeGitRepo({ "hello.txt": "hello\n" });
});
afterAll(async () => {
  await stack.cleanup();
  await rm(repo.dir, { recursive: true, force: true });
});

describe("a run walks its plan", () => {
  it("through a wait stage and an approval, each event on the bus once", async () => {
    await register("walker", {
      executionMode: "parallel",
      stages: [
        { name: "soak", wait: { minutes: 60 } },
        { name: "sign-off", approval: { timeoutMinutes: 60 } },
      ],
    });
    const id = await startRun("walker");

    const waiting = await inStage(id, "sign-off");
    expect(waiting.stages.find((s: Json) => s.name === "soak")).toMatchObject({
      status: "SUCCEEDED",
    });
    const decided = await decide(id, "approve", "looks good");
    expect(decided.status).toBe(200);

    const ended = await runIs(id, "SUCCEEDED", "FAILED");
    expect(ended.status).toBe("SUCCEEDED");
    expect(ended.stages.map((s: Json) => [s.name, s.status])).toEqual([
      ["source", "SUCCEEDED"],
      ["build", "SKIPPED"],
      ["soak", "SUCCEEDED"],
      ["sign-off", "SUCCEEDED"],
    ]);
    expect(ended.stages.at(-1).message).toBe("approved by anonymous: looks good");
    await waitFor(async () => ((await lifecycle(id)).includes("Run Succeeded") ? true : undefined));
    expect(await lifecycle(id)).toEqual([
      "Run Queued",
      "Run Started",
      "Stage Started (source)",
      "Stage Succeeded (source)",
      "Stage Skipped (build)",
      "Stage Started (soak)",
      "Stage Succeeded (soak)",
      "Stage Started (sign-off)",
      "Approval Requested (sign-off)",
      "Approval Decided (sign-off)",
      "Stage Succeeded (sign-off)",
      "Run Succeeded",
    ]);
  });
});

describe("approvals, stops and retries", () => {
  it("fails a rejected run, and a retry asks again and goes on when approved", async () => {
    await register("gated", {
      executionMode: "queued",
      stages: [{ name: "sign-off", approval: {} }],
    });
    const id = await startRun("gated");
    await inStage(id, "sign-off");

    expect((await decide(id, "reject", "not today")).status).toBe(200);
    const failed = await runIs(id, "FAILED");
    expect(failed.error).toEqual({
      error: "Sluice.Rejected",
      code: "APPROVAL_REJECTED",
      cause: "rejected by anonymous: not today",
    });

    const retried = await api(stack, "POST", `/runs/${id}/retry`, { reason: "try again" });
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect(retried.body).toMatchObject({ status: "RUNNING", attempt: 2 });
    await inStage(id, "sign-off");
    expect((await decide(id, "approve")).status).toBe(200);

    const ended = await runIs(id, "SUCCEEDED", "FAILED");
    expect(ended.status).toBe("SUCCEEDED");
    expect(
      ended.steps.filter((s: Json) => s.step === "sign-off").map((s: Json) => s.status),
    ).toEqual(["FAILED", "SUCCEEDED"]);
    expect(ended.retries).toEqual([expect.objectContaining({ reason: "try again", attempt: 2 })]);
  });

  it("stops a run that waits, records who and why, and lets the app's next run go", async () => {
    await register("stoppable", {
      executionMode: "queued",
      stages: [{ name: "sign-off", approval: {} }],
    });
    const first = await startRun("stoppable");
    await inStage(first, "sign-off");
    const second = await startRun("stoppable");
    expect((await run(second)).status).toBe("QUEUED");

    const stopped = await api(stack, "POST", `/runs/${first}/stop`, { reason: "wrong commit" });

    expect(stopped.status, JSON.stringify(stopped.body)).toBe(200);
    expect(stopped.body).toMatchObject({
      status: "STOPPED",
      stopRequest: { reason: "wrong commit" },
    });
    await inStage(second, "sign-off");
    const sfn = new SFNClient({});
    const execution = await sfn.send(
      new (await import("@aws-sdk/client-sfn")).DescribeExecutionCommand({
        executionArn: stopped.body.executionArn,
      }),
    );
    expect(execution.status).toBe("ABORTED");
    expect((await api(stack, "POST", `/runs/${first}/stop`, {})).status).toBe(409);
  });

  it("goes on with a failed build from the build when its execution is redriven", async () => {
    const marker = path.join(repo.dir, "..", `sluice-redrive-${Date.now()}`);
    await register("redriven", {
      executionMode: "parallel",
      repository: repo.dir,
      // Fails until the marker exists: the first attempt fails, the redriven one succeeds.
      build: { commands: [`test -e ${marker}`] },
    });
    const id = await startRun("redriven");
    const failed = await runIs(id, "FAILED");
    expect(failed.stages.find((s: Json) => s.name === "build")).toMatchObject({ status: "FAILED" });
    await writeFile(marker, "");

    await new SFNClient({}).send(
      new RedriveExecutionCommand({ executionArn: failed.executionArn }),
    );

    const ended = await runIs(id, "SUCCEEDED");
    expect(ended.stages.find((s: Json) => s.name === "source").attempt).toBe(1);
    await rm(marker, { force: true });
  });
});

describe("the events of stops and retries", () => {
  it("are each described by their schema file", async () => {
    const checked = await expectEventsToMatchSchemaFiles(stack);

    expect([...checked]).toEqual(expect.arrayContaining(["Run Stopped", "Run Redriven"]));
  });
});
