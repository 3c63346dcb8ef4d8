import type { ApprovalRequest } from "./approval-request";

/** One approver's mail: it carries that approver's own link and no one else's. */
export interface ApprovalEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** The approval request as a mail to the approver whose link is `link`. */
export function approvalEmail(
  request: ApprovalRequest,
  link: { email: string; url: string },
): ApprovalEmail {
  const needed =
    request.requiredApprovals === 1
      ? "1 approval is needed"
      : `${request.requiredApprovals} approvals are needed`;
  const facts: [string, string][] = [
    ["App", request.app],
    ["Revision", request.revision],
    ["Approval", request.stage],
    ["Run", request.runId],
  ];
  const change = request.change;
  if (change?.message?.trim()) facts.push(["Change", change.message.trim()]);
  if (change?.author) facts.push(["Author", change.author]);
  const evidence = request.evidence.map(
    (e) => `${e.stage}: ${e.status}${e.message ? ` (${e.message})` : ""}`,
  );
  const expires = `Decide before ${request.expiresAt}; after that the run ends rejected.`;
  const subject = oneLine(`Approval needed: ${request.app} ${request.revision} (${request.stage})`);

  const text = [
    `${request.app} is waiting for approval at ${request.stage}; ${needed}.`,
    "",
    ...facts.map(([name, value]) => `${name}: ${indentFollowing(value, name.length + 2)}`),
    ...(evidence.length ? ["", "Before this:", ...evidence.map((line) => `  ${line}`)] : []),
    "",
    expires,
    "",
    "Open your link to review the change and approve or reject it (opening it decides nothing):",
    link.url,
    "",
    "This link is yours alone: do not forward this mail.",
    "",
  ].join("\n");

  const html = `<!doctype html>
<html>
<body style="font-family: sans-serif; line-height: 1.4">
<p><strong>${escapeHtml(request.app)}</strong> is waiting for approval at <strong>${escapeHtml(request.stage)}</strong>; ${escapeHtml(needed)}.</p>
<table cellpadding="4">
${facts.map(([name, value]) => `<tr><th align="left" valign="top">${escapeHtml(name)}</th><td>${multiline(value)}</td></tr>`).join("\n")}
</table>
${evidence.length ? `<p>Before this:</p>\n<ul>\n${evidence.map((line) => `<li>${escapeHtml(line)}</li>`).join("\n")}\n</ul>` : ""}
<p>${escapeHtml(expires)}</p>
<p><a href="${escapeHtml(link.url)}" style="display: inline-block; padding: 8px 16px; background: #1d6f42; color: #fff; text-decoration: none; border-radius: 4px">Review and decide</a></p>
<p style="color: #666">Opening the link decides nothing: its page has the Approve and Reject buttons. This link is yours alone: do not forward this mail.</p>
</body>
</html>
`;
  return { to: link.email, subject, text, html };
}

/** Characters HTML would read as markup, in text or in a quoted attribute. */
function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

function multiline(text: string): string {
  return escapeHtml(text).replace(/\r?\n/g, "<br>");
}

/** A header line must not break: a commit message's newline would end the Subject. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function indentFollowing(text: string, width: number): string {
  return text.replace(/\r?\n/g, `\n${" ".repeat(width)}`);
}
