import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectEventsToMatchSchemaFiles } from "../support/event-schemas";
import { allRunsEnded, api, startTestStack, streamsTaken, waitFor } from "../support/local-stack";

// biome-ignore lint/suspicious/noExplicitAny: tests read answers loosely and assert on them
type Json = any;

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

    // The table's stream publishes the outbox after the run's last write.
    await streamsTaken(stack);
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

describe("lists and audit trails, a page at a time", () => {
  const RUNS = 7;
  let created: string[] = [];

  /** Every page of a list, following nextCursor; each page no longer than `limit`. */
  async function everyPage(route: string, key: string, limit: number): Promise<Json[][]> {
    const pages: Json[][] = [];
    let cursor: string | undefined;
    do {
      const sep = route.includes("?") ? "&" : "?";
      const res = await api(
        stack,
        "GET",
        `${route}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`,
      );
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body[key].length).toBeLessThanOrEqual(limit);
      pages.push(res.body[key]);
      cursor = res.body.nextCursor;
    } while (cursor);
    return pages;
  }

  beforeAll(async () => {
    expect((await api(stack, "PUT", "/apps/pager", "executionMode: parallel\n")).status).toBe(201);
    for (let i = 0; i < RUNS; i++) {
      const res = await api(stack, "POST", "/apps/pager/runs", {
        revision: { type: "git", commit: COMMIT },
        reason: `run ${i}`,
      });
      created.push(res.body.id);
    }
    await allRunsEnded(stack, created);
    await streamsTaken(stack);
    created = created.reverse();
  });

  it("pages through an app's runs newest first, with no gaps or repeats", async () => {
    const pages = await everyPage("/apps/pager/runs", "runs", 3);

    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages.flat().map((r) => r.id)).toEqual(created);
  });

  it("ends a list on a full page without a cursor to an empty one", async () => {
    const whole = await api(stack, "GET", `/apps/pager/runs?limit=${RUNS}`);
    const filtered = await everyPage("/runs?app=pager&status=SUCCEEDED", "runs", RUNS);
    const trail = await everyPage(`/runs/${created[0]}/audit`, "entries", 7);

    expect(whole.body.runs).toHaveLength(RUNS);
    expect(whole.body.nextCursor).toBeUndefined();
    expect(filtered.map((p) => p.length)).toEqual([RUNS]);
    // Six events and the run's own action: one full page, and no second.
    expect(trail.map((p) => p.length)).toEqual([7]);
  });

  it("filters every app's runs by app and status, and hands the same page for the same cursor", async () => {
    const succeeded = await everyPage("/runs?app=pager&status=SUCCEEDED", "runs", 2);
    const failed = await api(stack, "GET", "/runs?app=pager&status=FAILED");
    const first = await api(stack, "GET", "/runs?limit=2");
    const again = await api(stack, "GET", `/runs?limit=2&cursor=${first.body.nextCursor}`);
    const twice = await api(stack, "GET", `/runs?limit=2&cursor=${first.body.nextCursor}`);

    expect(succeeded.flat().map((r) => r.id)).toEqual(created);
    expect(failed.body).toEqual({ runs: [] });
    // Every app's runs: the pager's were the last made.
    expect([...first.body.runs, ...again.body.runs].map((r: Json) => r.id)).toEqual(
      created.slice(0, 4),
    );
    expect(twice.body).toEqual(again.body);
  });

  it("refuses a forged cursor, another list's cursor and a bad parameter with a 400 naming it", async () => {
    const forged = Buffer.from(
      JSON.stringify({ pk: "APP#shop", sk: "APP", gsi1pk: "APP#shop#RUNS", gsi1sk: "x" }),
    ).toString("base64url");
    const runsCursor = (await api(stack, "GET", "/apps/pager/runs?limit=1")).body.nextCursor;

    for (const route of [
      `/apps/pager/runs?cursor=${forged}`,
      "/apps/pager/runs?cursor=not-a-cursor",
      `/apps/pager/audit?cursor=${runsCursor}`,
      `/runs/${created[0]}/audit?cursor=${runsCursor}`,
    ]) {
      const res = await api(stack, "GET", route);
      expect(res.status, route).toBe(400);
      expect(res.body.message).toBe("cursor is not one this list handed out");
    }
    const badLimit = await api(stack, "GET", "/runs?limit=0");
    const badStatus = await api(stack, "GET", "/apps/pager/runs?status=DONE");
    const unknown = await api(stack, "GET", "/apps/pager/runs?app=shop");
    expect([badLimit.status, badStatus.status, unknown.status]).toEqual([400, 400, 400]);
    expect(badLimit.body.message).toMatch(/limit: must be a whole number from 1 to 100/);
    expect(badStatus.body.message).toMatch(/status: Invalid option/);
    expect(unknown.body.message).toMatch(/Unrecognized key: "app"/);
  });

  it("keeps every event and every action in the app's audit trail, newest first", async () => {
    const pages = await everyPage("/apps/pager/audit", "entries", 5);
    const entries = pages.flat();

    expect(pages.length).toBeGreaterThan(2);
    const ids = entries.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort().reverse()).toEqual(ids);
    // Six events a run (queued, started, source started and succeeded, build skipped, succeeded).
    expect(entries.filter((e) => e.kind === "event")).toHaveLength(RUNS * 6);
    expect(entries.filter((e) => e.type === "run").map((e) => [e.runId, e.reason])).toEqual(
      created.map((id, i) => [id, `run ${RUNS - 1 - i}`]),
    );
    expect(entries.at(-1)).toMatchObject({
      kind: "action",
      type: "app-put",
      by: "anonymous",
      summary: "pipeline definition put",
    });
  });

  it("numbers a run's events 1, 2, 3... on the bus, in its audit trail and in its timeline", async () => {
    const runId = created[0];
    const onBus = (await stack.eventBridge.read())
      .filter((e) => (e.detail as { runId?: string }).runId === runId)
      .map((e) => [(e.detail as Json).sequence, e["detail-type"]]);
    const trail = (await everyPage(`/runs/${runId}/audit`, "entries", 4)).flat();
    const { body: run } = await api(stack, "GET", `/runs/${runId}`);

    expect(onBus.map(([sequence]) => sequence)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(run.timeline.map((e: Json) => [e.sequence, e.detailType])).toEqual(onBus);
    expect(run.sequence).toBe(6);
    expect(trail.filter((e) => e.kind === "event").map((e) => [e.sequence, e.type])).toEqual(
      [...onBus].reverse(),
    );
    expect(trail.at(-1)).toMatchObject({ kind: "action", type: "run", by: "anonymous" });
    // Each entry in a person's words, as `sluice events` prints it.
    expect(trail.filter((e) => e.kind === "event").map((e) => e.summary)).toEqual([
      "run SUCCEEDED",
      expect.stringMatching(/^build SKIPPED: /),
      expect.stringMatching(/^source SUCCEEDED: pinned /),
      "source started",
      "run started",
      expect.stringMatching(/^run created \(release of git /),
    ]);
  });

  it("lists apps by name with their pipelines in brief", async () => {
    const { status, body } = await api(stack, "GET", "/apps?limit=1");
    const rest = await api(stack, "GET", `/apps?cursor=${body.nextCursor}`);

    expect(status).toBe(200);
    expect([...body.apps, ...rest.body.apps].map((a: Json) => a.name)).toEqual(["pager", "shop"]);
    expect(body.apps[0]).toMatchObject({ executionMode: "parallel", stages: [], approval: false });
  });

  it("sends only events its schema files describe", async () => {
    const checked = await expectEventsToMatchSchemaFiles(stack);

    expect([...checked]).toEqual(expect.arrayContaining(["Run Queued", "Run Succeeded"]));
  });
});
