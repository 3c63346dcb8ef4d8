import { afterEach, describe, expect, it, vi } from "vitest";

interface DashboardApi {
  getAudit(id: string): Promise<{ entries: { id: string }[] } | undefined>;
}

/** ui/api.js as the page loads it: plain JavaScript, served as it is. */
const dashboardApi = () =>
  import(new URL("../../ui/api.js", import.meta.url).href) as Promise<DashboardApi>;

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("the dashboard's audit trail", () => {
  it("is the run's whole trail, read page after page, not only its newest entries", async () => {
    const asked: string[] = [];
    vi.stubGlobal("sessionStorage", { getItem: () => "token" });
    vi.stubGlobal("fetch", async (path: string) => {
      asked.push(path);
      const cursor = new URL(path, "http://dashboard").searchParams.get("cursor");
      const page = cursor
        ? { entries: [{ id: "01J2" }] }
        : { entries: [{ id: "01J3" }], nextCursor: "c1" };
      return new Response(JSON.stringify(page));
    });

    const audit = await (await dashboardApi()).getAudit("01J0");

    expect(audit).toEqual({ entries: [{ id: "01J3" }, { id: "01J2" }] });
    expect(asked).toEqual([
      "/api/runs/01J0/audit?limit=100",
      "/api/runs/01J0/audit?limit=100&cursor=c1",
    ]);
  });
});
