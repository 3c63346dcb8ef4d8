import { describe, expect, it } from "vitest";
import { serve, sluiceAt } from "../support/stub-api";

const RUN = {
  id: "01J00000000000000000000001",
  app: "web",
  status: "FAILED",
  createdAt: "2026-01-05T10:00:00.000Z",
  revision: { type: "bundle", key: "web/1.0.0.tar.gz" },
};

/** `sluice runs <args>` against an API whose GET /runs answers `page(cursor, limit)`. */
async function runs(
  page: (cursor: string | null, limit: string | null) => unknown,
  args: string[],
  env: NodeJS.ProcessEnv = {},
) {
  const api = await serve((req) => {
    const query = new URL(req.url ?? "/", "http://api").searchParams;
    return page(query.get("cursor"), query.get("limit"));
  });
  return { ...(await sluiceAt(api, ["runs", ...args], env)), api };
}

describe("sluice runs' more: line", () => {
  it("gives the command for the next page when the API hands out a cursor", async () => {
    const { code, text, api } = await runs(
      (cursor) => (cursor === null ? { runs: [RUN], next: "c1" } : { runs: [] }),
      ["--status", "FAILED", "--limit", "1"],
      { npm_lifecycle_event: "sluice" },
    );

    expect(code).toBe(0);
    expect(text).toContain(
      `more: npm run sluice -- --api ${api} runs --status FAILED --limit 1 --cursor c1\n`,
    );
  });

  it("is left out when the API hands out no cursor", async () => {
    const { text } = await runs(() => ({ runs: [RUN] }), ["--limit", "1"]);

    expect(text).not.toContain("more:");
  });
});
