import { afterEach, describe, expect, it, vi } from "vitest";

interface DashboardApi {
  getAudit(id: string): Promise<{ entries: { id: string }[]; partial: boolean } | undefined>;
}

/** The API the page talks to: `page(cursor)` answers each GET of the trail; what was asked. */
function serveTrail(page: (cursor: string | null) => { status?: number; body: unknown }) {
  const asked: string[] = [];
  vi.stubGlobal("sessionStorage", { getItem: () => "token" });
  vi.stubGlobal("fetch", async (path: string) => {
    asked.push(path);
    const answer = page(new URL(path, "http://dashboard").searchParams.get("cursor"));
    return new Response(JSON.stringify(answer.body), { status: answer.status ?? 200 });
  });
  return asked;
}

/** ui/api.js as the page loads it: plain JavaScript, served as it is. */
const dashboardApi = () =>
  import(new URL("../../ui/api.js", import.meta.url).href) as Promise<DashboardApi>;

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("the dashboard's audit trail", () => {
  it("is the run's whole trail, read page after page, not only its newest entries", async () => {
    const asked = serveTrail((cursor) => ({
      body: cursor
        ? { entries: [{ id: "01J2" }] }
        : { entries: [{ id: "01J3" }], nextCursor: "c1" },
    }));

    const audit = await (await dashboardApi()).getAudit("01J0");

    expect(audit).toEqual({ entries: [{ id: "01J3" }, { id: "01J2" }], partial: false });
    expect(asked).toEqual([
      "/api/runs/01J0/audit?limit=100",
      "/api/runs/01J0/audit?limit=100&cursor=c1",
    ]);
  });

  it("says it is partial, and stops, when a page fails or a cursor comes round again", async () => {
    serveTrail((cursor) =>
      cursor
        ? { status: 500, body: { message: "boom" } }
        : { body: { entries: [{ id: "01J3" }], nextCursor: "c1" } },
    );
    const failed = await (await dashboardApi()).getAudit("01J0");
    const asked = serveTrail(() => ({ body: { entries: [{ id: "01J3" }], nextCursor: "same" } }));
    const circling = await (await dashboardApi()).getAudit("01J0");

    expect(failed).toEqual({ entries: [{ id: "01J3" }], partial: true });
    expect(circling?.partial).toBe(true);
    expect(asked).toHaveLength(2);
  });
});
