import { describe, expect, it } from "vitest";
import { serve, sluiceAt } from "../support/stub-api";

/** An operator's action in the app's trail, the `n`th newest of the app's actions. */
function action(n: number) {
  return {
    id: `01J0000000000000000000000${n}`,
    at: `2026-01-05T10:00:0${9 - n}.000Z`,
    app: "web",
    kind: "action",
    type: "freeze",
    by: "ada",
    reason: `freeze ${n}`,
  };
}

/** Newest first, as GET /apps/{app}/audit pages it. */
const TRAIL = [1, 2, 3, 4, 5].map(action);

/**
 * `sluice events <args>` against an API whose app trail is TRAIL, paged by offset cursors
 * (`c<offset>`), handed out when entries follow; the queries it was asked.
 */
async function events(args: string[]) {
  const asked: URLSearchParams[] = [];
  const api = await serve((req) => {
    const query = new URL(req.url ?? "/", "http://api").searchParams;
    asked.push(query);
    const from = Number(query.get("cursor")?.slice(1) ?? 0);
    const limit = Number(query.get("limit"));
    const entries = TRAIL.slice(from, from + limit);
    return {
      entries,
      ...(from + limit < TRAIL.length ? { nextCursor: `c${from + limit}` } : {}),
    };
  });
  return { ...(await sluiceAt(api, ["events", ...args])), api, asked };
}

const reasons = (text: string) => [...text.matchAll(/freeze asked: (freeze \d)/g)].map((m) => m[1]);

describe("sluice events --app, a page at a time", () => {
  it("prints the newest --limit events, oldest first, and the command for the older ones", async () => {
    const { code, text, api } = await events(["--app", "web", "--limit", "2"]);

    expect(code).toBe(0);
    expect(reasons(text)).toEqual(["freeze 2", "freeze 1"]);
    expect(text).toContain(
      `more (older): sluice --api ${api} events --app web --limit 2 --cursor c2\n`,
    );
  });

  it("goes on from --cursor, and says nothing of more where the trail ends", async () => {
    const { text } = await events(["--app", "web", "--limit", "3", "--cursor", "c2"]);

    expect(reasons(text)).toEqual(["freeze 5", "freeze 4", "freeze 3"]);
    expect(text).not.toContain("more");
  });

  it("asks for the newest 50 unless told", async () => {
    const { text, asked } = await events(["--app", "web"]);

    expect(reasons(text)).toHaveLength(5);
    expect(asked[0]?.get("limit")).toBe("50");
    expect(text).not.toContain("more");
  });

  it("refuses --cursor where the API keeps no audit trail, rather than print the same again", async () => {
    // An API from before the audit trail: its audit routes are not found.
    const api = await serve(
      () => ({ message: "Not Found" }),
      (req) => (req.url?.includes("/audit") ? 404 : 200),
    );
    const { code, text } = await sluiceAt(api, ["events", "--app", "web", "--cursor", "c2"]);

    expect(code).not.toBe(0);
    expect(text).toContain("this API keeps no audit trail");
  });

  it("refuses --limit and --cursor for one run's events, which come whole", async () => {
    const { code, text } = await events(["01J00000000000000000000009", "--limit", "2"]);

    expect(code).not.toBe(0);
    expect(text).toContain("--limit and --cursor page an app's events; a run's come whole");
  });
});
