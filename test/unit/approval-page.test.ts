import { describe, expect, it } from "vitest";
import { approvalPage, decisionPage, refusalPage } from "../../http/approval-page";

const view = {
  runId: "01HZY0000000000000000000AA",
  app: "shop",
  stage: "sign-off",
  revision: "abc1234",
  change: { message: 'Fix <script>alert("x")</script> & more', author: "Eve <eve@example.com>" },
  evidence: [{ stage: "beta", status: "SUCCEEDED", message: "<b>ok</b>" }],
  email: "ana@example.com",
  approvals: 0,
  required: 1,
  expiresAt: "2026-03-08T10:00:00.000Z",
};

describe("an approval link's pages", () => {
  it("escape everything they show, and run no script", () => {
    const page = approvalPage(view);

    expect(page.body).toContain("Fix &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more");
    expect(page.body).toContain("Eve &lt;eve@example.com&gt;");
    expect(page.body).toContain("&lt;b&gt;ok&lt;/b&gt;");
    expect(page.body).not.toContain("<script");
    expect(page.body).toContain('<form method="post">');
    expect(page.body).toContain('name="decision" value="approve"');
  });

  it("are kept by no cache, sent to no referrer, indexed by no robot, and framed by nobody", () => {
    for (const page of [
      approvalPage(view),
      decisionPage({ outcome: "approved", by: "ana@example.com", approvals: 1, required: 1 }),
      refusalPage(410, "this approval link expired"),
    ]) {
      expect(page.headers).toMatchObject({
        "cache-control": "no-store",
        "referrer-policy": "no-referrer",
        "x-robots-tag": "noindex, nofollow",
        "x-frame-options": "DENY",
      });
      expect(page.headers?.["content-security-policy"]).toMatch(
        /^default-src 'none'; style-src 'sha256-[\w+/=]+'; form-action 'self'; frame-ancestors 'none'/,
      );
    }
  });

  it("say why a link did nothing, with its status", () => {
    const page = refusalPage(409, "this approval link was already used");
    expect(page.statusCode).toBe(409);
    expect(page.body).toContain("This approval link no longer works");
    expect(page.body).toContain("Nothing was decided.");
  });
});
