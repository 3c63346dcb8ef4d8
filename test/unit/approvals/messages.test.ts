import { describe, expect, it } from "vitest";
import { approvalEmail } from "../../../domain/approval-email";
import {
  APPROVE_ACTION,
  REJECT_ACTION,
  SlackActionValueSchema,
  slackApprovalMessage,
  slackDecisionMessage,
} from "../../../domain/approval-slack";
import { sampleRequest } from "./request-sample";

// biome-ignore lint/suspicious/noExplicitAny: tests read Block Kit loosely and assert on it
type Json = any;

const textOf = (blocks: Json[]) => JSON.stringify(blocks);

describe("the Slack approval message", () => {
  it("shows the app, revision, change, what came before, approvals needed and expiry", () => {
    const { text, blocks } = slackApprovalMessage(sampleRequest()) as {
      text: string;
      blocks: Json[];
    };

    expect(blocks[0]).toEqual({
      type: "header",
      text: { type: "plain_text", text: "Approval needed: shop" },
    });
    const all = textOf(blocks);
    expect(all).toContain("git 0123456 (refs/heads/main)");
    expect(all).toContain("by Ada &lt;ada@example.com&gt;");
    expect(all).toContain("*beta*: SUCCEEDED (3 of 3 hosts)");
    expect(all).toContain("*gamma*: SUCCEEDED");
    expect(all).toContain("Needs 2 approvals");
    expect(all).toContain("<!date^1796731200^{date_short_pretty} {time}|2026-12-08T12:00:00.000Z>");
    expect(text).toBe("Approval needed: shop git 0123456 (refs/heads/main) (sign-off)");
  });

  it("escapes the commit message, so it cannot mention anyone or forge a link", () => {
    const request = sampleRequest({
      change: { message: "<!channel> see <https://evil|docs> & more" },
    });

    const all = textOf(slackApprovalMessage(request).blocks);

    expect(all).toContain("&lt;!channel&gt; see &lt;https://evil|docs&gt; &amp; more");
    expect(all).not.toContain("<!channel>");
  });

  it("leaves out the change and the evidence when the run has none", () => {
    const request = sampleRequest({ evidence: [], requiredApprovals: 1 });
    delete request.change;

    const all = textOf(slackApprovalMessage(request).blocks);

    expect(all).not.toContain("*Change*");
    expect(all).not.toContain("Before this");
    expect(all).toContain("Needs 1 approval ·");
  });

  it("ends with Approve and Reject buttons naming the run, step and attempt", () => {
    const blocks = slackApprovalMessage(sampleRequest({ index: 7, attempt: 2 })).blocks as Json[];

    const actions = blocks.at(-1);
    expect(actions.type).toBe("actions");
    const [approve, reject] = actions.elements;
    expect(approve).toMatchObject({ action_id: APPROVE_ACTION, style: "primary" });
    expect(reject).toMatchObject({ action_id: REJECT_ACTION, style: "danger" });
    expect(reject.confirm.confirm.text).toBe("Reject");
    expect(approve.value).toBe(reject.value);
    expect(SlackActionValueSchema.parse(JSON.parse(approve.value))).toEqual({
      run: "01JTESTRUN0000000000000000",
      index: 7,
      attempt: 2,
    });
    // Slack refuses a message with a button value over 2000 characters.
    expect(approve.value.length).toBeLessThan(2000);
  });

  it("keeps a very long commit message within Slack's 3000 characters a section", () => {
    const request = sampleRequest({ change: { message: "x".repeat(10_000) } });

    const sections = (slackApprovalMessage(request).blocks as Json[]).filter((b) => b.text);

    for (const block of sections) expect(block.text.text.length).toBeLessThanOrEqual(3000);
  });
});

describe("the Slack message after a decision", () => {
  const original = slackApprovalMessage(sampleRequest()).blocks;

  it("says who approved and drops the buttons once approved", () => {
    const message = slackDecisionMessage(original, {
      outcome: "approved",
      slackUser: "U123",
      approvals: 2,
      required: 2,
    }) as { text: string; blocks: Json[] };

    expect(message.text).toBe(":white_check_mark: Approved by <@U123>");
    expect(message.blocks.some((b) => b.type === "actions")).toBe(false);
    expect(message.blocks[0].type).toBe("header");
    expect(textOf(message.blocks.slice(-1))).toContain("Approved by <@U123>");
  });

  it("says who rejected and drops the buttons", () => {
    const message = slackDecisionMessage(original, {
      outcome: "rejected",
      slackUser: "U9",
      approvals: 0,
      required: 2,
    }) as { text: string; blocks: Json[] };

    expect(message.text).toContain("Rejected by <@U9>");
    expect(message.blocks.some((b) => b.type === "actions")).toBe(false);
  });

  it("counts the approvals so far and keeps the buttons while more are needed", () => {
    const first = slackDecisionMessage(original, {
      outcome: "recorded",
      slackUser: "U1",
      approvals: 1,
      required: 2,
    });
    const blocks = first.blocks as Json[];

    expect(first.text).toContain("1 of 2 approvals");
    expect(blocks.at(-1).type).toBe("actions");
    expect(textOf(blocks.slice(-2, -1))).toContain("<@U1> approved: 1 of 2 approvals");

    // The next decision replaces that line rather than adding another.
    const second = slackDecisionMessage(first.blocks, {
      outcome: "approved",
      slackUser: "U2",
      approvals: 2,
      required: 2,
    });
    expect(textOf(second.blocks)).not.toContain("1 of 2");
    expect(second.blocks.filter((b) => b.block_id === "sluice_status")).toHaveLength(1);
  });
});

describe("the approval mail", () => {
  const request = sampleRequest();
  const ada = request.links[0] as { email: string; url: string };

  it("goes to one approver and carries only that approver's link", () => {
    const mail = approvalEmail(request, ada);

    expect(mail.to).toBe("ada@example.com");
    expect(mail.text).toContain("https://sluice.example/approvals/tok-ada");
    expect(mail.html).toContain('href="https://sluice.example/approvals/tok-ada"');
    expect(mail.text + mail.html).not.toContain("tok-bob");
  });

  it("has a one-line subject naming the app, revision and approval", () => {
    const mail = approvalEmail(sampleRequest({ revision: "1.2.0\nsecond line" }), ada);

    expect(mail.subject).toBe("Approval needed: shop 1.2.0 second line (sign-off)");
  });

  it("tells the change, what came before, approvals needed and expiry in text and HTML", () => {
    const mail = approvalEmail(request, ada);

    for (const body of [mail.text, mail.html]) {
      expect(body).toContain("2 approvals are needed");
      expect(body).toContain("beta: SUCCEEDED (3 of 3 hosts)");
      expect(body).toContain("2026-12-08T12:00:00.000Z");
    }
    expect(mail.text).toContain("Fix checkout <script>alert(1)</script> & totals");
    expect(mail.text).toContain("Author: Ada <ada@example.com>");
  });

  it("escapes what the change says in the HTML body", () => {
    const mail = approvalEmail(request, ada);

    expect(mail.html).toContain("Fix checkout &lt;script&gt;alert(1)&lt;/script&gt; &amp; totals");
    expect(mail.html).toContain("Ada &lt;ada@example.com&gt;");
    expect(mail.html).not.toContain("<script>");
  });

  it("escapes a link's quotes, so it cannot break out of its attribute", () => {
    const mail = approvalEmail(request, { email: "x@example.com", url: 'https://a.example/"><b>' });

    expect(mail.html).toContain('href="https://a.example/&quot;&gt;&lt;b&gt;"');
  });
});
