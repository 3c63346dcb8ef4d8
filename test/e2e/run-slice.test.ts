import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, startTestStack, waitFor } from "../support/local-stack";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
let stack: Awaited<ReturnType<typeof startTestStack>>;

beforeAll(async () => {
  stack = await startTestStack();
  const registered = await api(stack, "PUT", "/apps/shop", "executionMode: parallel\n");
  expect(registered.status).toBe(201);
});
afterAll(() => stack.cleanup());

async function finished(id: string) {
  return waitFor(
    async () => {
      const { body } = await api(stack, "GET", `/runs/${id}`);
      return ["SUCCEEDED", "FAILED"].includes(body.status) ? body : undefined;
    },
    { what: `run ${id} to end` },
  );
}

describe("a run through the HTTP API", () => {
  it("goes from queued to succeeded through the source stage, with its events on the bus", async () => {
    // Prepare / Act
    const created = await api(stack, "POST", "/apps/shop/runs", {
      revision: { type: "git", ref: "refs/heads/main", commit: COMMIT },
      reason: "first deploy",
    });

    // Assess
    expect(created.status).toBe(202);
    expect(created.body.status).toBe("QUEUED");
    expect(created.body.executionArn).toContain(
      `:execution:sluice-local-pipeline:${created.body.id}`,
    );

    const run = await finished(created.body.id);
    expect(run.status).toBe("SUCCEEDED");
    expect(run.revision.commit).toBe(COMMIT);
    // An unsigned request (the local API checks no signature) is anonymous's.
    expect(run.trigger).toEqual({
      type: "api",
      by: "anonymous",
      actor: "anonymous",
      reason: "first deploy",
    });
    expect(run.stages).toEqual([
      expect.objectContaining({ name: "source", status: "SUCCEEDED" }),
      expect.objectContaining({
        name: "build",
        status: "SKIPPED",
        message: "app shop has no build configured",
      }),
    ]);
    expect(Date.parse(run.endedAt)).toBeGreaterThanOrEqual(Date.parse(run.startedAt));

    const events = (await stack.eventBridge.read()).filter(
      (e) => (e.detail as { runId?: string }).runId === run.id,
    );
    expect(events.map((e) => e["detail-type"])).toEqual([
      "Run Queued",
      "Run Started",
      "Stage Started",
      "Stage Succeeded",
      "Stage Skipped",
      "Run Succeeded",
    ]);
    expect(events.every((e) => e.source === "sluice")).toBe(true);
  });

  it("keeps the change the request names, for its approval to show", async () => {
    const change = {
      message: "Fix the checkout\n\nZoë found it: totals were off by one cent.",
      author: { name: "Zoë Ångström", email: "zoe@example.org", username: "zoe" },
    };

    const created = await api(stack, "POST", "/apps/shop/runs", {
      revision: { type: "git", commit: COMMIT },
      change,
    });

    expect(created.status).toBe(202);
    expect(created.body.change).toEqual(change);
    expect((await api(stack, "GET", `/runs/${created.body.id}`)).body.change).toEqual(change);
  });

  it("lists an app's runs newest first", async () => {
    const first = await api(stack, "POST", "/apps/shop/runs", {
      revision: { type: "git", commit: COMMIT },
    });
    const second = await api(stack, "POST", "/apps/shop/runs", {
      revision: { type: "git", commit: COMMIT },
    });
    await finished(second.body.id);

    const { status, body } = await api(stack, "GET", "/apps/shop/runs");

    expect(status).toBe(200);
    const ids = body.runs.map((r: { id: string }) => r.id);
    expect(ids.indexOf(second.body.id)).toBeLessThan(ids.indexOf(first.body.id));
  });
});

describe("bad requests change nothing", () => {
  async function runCount(app = "shop") {
    const { body } = await api(stack, "GET", `/apps/${app}/runs`);
    return body.runs.length as number;
  }

  it.each([
    ["malformed JSON", "{not json", /not valid JSON/],
    ["an empty body", "", /empty/],
    [
      "a branch instead of a commit",
      { revision: { type: "git", commit: "main" } },
      /commit must be a full hex sha/,
    ],
    ["an unknown revision type", { revision: { type: "svn", commit: COMMIT } }, /revision/],
    ["an unknown field", { revision: { type: "git", commit: COMMIT }, force: true }, /force/],
    [
      "a commit message over 4,096 characters",
      { revision: { type: "git", commit: COMMIT }, change: { message: "x".repeat(4097) } },
      /change\.message: Too big/,
    ],
    [
      "an unknown field of the author",
      { revision: { type: "git", commit: COMMIT }, change: { author: { mail: "a@example.com" } } },
      /change\.author: Unrecognized key: "mail"/,
    ],
    [
      "a bundle of another app",
      { revision: { type: "bundle", key: "billing/1.0.0.zip" } },
      /bundle key "billing\/1.0.0.zip" is not a release of app shop/,
    ],
  ])("answers %s with 400 and a message", async (_what, body, message) => {
    const before = await runCount();

    const res = await api(stack, "POST", "/apps/shop/runs", body, {
      "content-type": "application/json",
    });

    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(message);
    expect(await runCount()).toBe(before);
  });

  it("answers 404 for an app that is not registered, and records no run", async () => {
    const res = await api(stack, "POST", "/apps/ghost/runs", {
      revision: { type: "git", commit: COMMIT },
    });

    expect(res.status).toBe(404);
    expect(res.body.message).toBe('app "ghost" is not registered');
    expect((await api(stack, "GET", "/apps/ghost/runs")).status).toBe(404);
  });

  it("answers 404 for a bundle that was never released, and records no run", async () => {
    const before = await runCount();

    const res = await api(stack, "POST", "/apps/shop/runs", {
      revision: { type: "bundle", key: "shop/9.9.9.tar.gz" },
    });

    expect(res.status).toBe(404);
    expect(res.body.message).toBe(
      "version 9.9.9 of app shop was never released as shop/9.9.9.tar.gz: upload the bundle first",
    );
    expect(await runCount()).toBe(before);
  });

  it("answers 400 naming the rule for an app name no app can have", async () => {
    const res = await api(stack, "GET", "/apps/Shop_1/runs");

    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/invalid app "Shop_1": app names are 2-63 characters/);
  });

  it("answers 404 for a run that does not exist, and for a malformed id", async () => {
    expect((await api(stack, "GET", "/runs/01ARZ3NDEKTSV4RRFFQ69G5FAV")).status).toBe(404);
    expect((await api(stack, "GET", "/runs/..%2Fetc")).status).toBe(404);
  });

  it("rejects an invalid pipeline definition with the field at fault", async () => {
    const res = await api(stack, "PUT", "/apps/shop", "executionMode: sometimes\n");

    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/executionMode/);
    expect((await api(stack, "GET", "/apps/shop")).body.pipeline.executionMode).toBe("parallel");
  });

  it("answers 404 for a route that does not exist, 405 with Allow for a method a route lacks", async () => {
    const wrongMethod = await fetch(`${stack.endpoints.api}/apps/shop`, { method: "DELETE" });

    expect((await api(stack, "GET", "/shops")).status).toBe(404);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("PUT, GET");
  });
});
