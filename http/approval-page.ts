import { createHash } from "node:crypto";
import type { DecisionOutcome } from "../domain/approval-gate";
import type { LinkView } from "../usecases/approval";
import type { ApiResult } from "./api";

/**
 * The pages of a personal approval link, rendered on the server with every value escaped. They
 * load nothing, run no script, and are kept by no cache, no referrer and no search engine.
 */

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.4rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}
dd{margin:0;white-space:pre-wrap}table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #ddd}
textarea{width:100%;min-height:4rem}button{font-size:1rem;padding:.5rem 1.25rem;margin-right:.75rem;border-radius:.3rem;border:1px solid #888;cursor:pointer}
button[value=approve]{background:#1a7f37;color:#fff}button[value=reject]{background:#cf222e;color:#fff}.note{color:#555}`;

const STYLE_HASH = createHash("sha256").update(STYLE).digest("base64");

const HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "x-robots-tag": "noindex, nofollow",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "content-security-policy": `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
};

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );
}

function page(statusCode: number, title: string, body: string): ApiResult {
  return {
    statusCode,
    headers: HEADERS,
    body: `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>${body}</body></html>
`,
  };
}

/** The approval a link is for, and the form whose POST is the only thing that decides. */
export function approvalPage(view: LinkView): ApiResult {
  const e = escapeHtml;
  const change = view.change
    ? `${view.change.message ? `<dt>Change</dt><dd>${e(view.change.message)}</dd>` : ""}${
        view.change.author ? `<dt>Author</dt><dd>${e(view.change.author)}</dd>` : ""
      }`
    : "";
  const evidence = view.evidence.length
    ? `<h2>Before this approval</h2><table><thead><tr><th>Stage</th><th>Status</th><th>Message</th></tr></thead><tbody>${view.evidence
        .map(
          (s) =>
            `<tr><td>${e(s.stage)}</td><td>${e(s.status)}</td><td>${e(s.message ?? "")}</td></tr>`,
        )
        .join("")}</tbody></table>`
    : "";
  return page(
    200,
    `Approve ${view.app}?`,
    `<h1>${e(view.app)}: approve stage ${e(view.stage)}?</h1>
<dl><dt>App</dt><dd>${e(view.app)}</dd><dt>Run</dt><dd>${e(view.runId)}</dd><dt>Revision</dt><dd>${e(view.revision)}</dd>${change}
<dt>For</dt><dd>${e(view.email)}</dd><dt>Approvals</dt><dd>${view.approvals} of ${view.required} needed</dd><dt>Open until</dt><dd>${e(view.expiresAt)}</dd></dl>
${evidence}
<form method="post">
<p><label for="comment">Comment (optional)</label><br><textarea id="comment" name="comment" maxlength="1000"></textarea></p>
<p><button type="submit" name="decision" value="approve">Approve</button><button type="submit" name="decision" value="reject">Reject</button></p>
</form>
<p class="note">This link is yours alone and works once. Opening it decides nothing; only these buttons do.</p>`,
  );
}

/** What the decision came to. */
export function decisionPage(outcome: DecisionOutcome): ApiResult {
  const said =
    outcome.outcome === "approved"
      ? "Approved: the run goes on."
      : outcome.outcome === "rejected"
        ? "Rejected: the run stops."
        : `Your approval is recorded: ${outcome.approvals} of ${outcome.required} approvals so far.`;
  return page(
    200,
    said,
    `<h1>${escapeHtml(said)}</h1><p>Recorded as ${escapeHtml(outcome.by)}. This link no longer works.</p>`,
  );
}

/** Why a link did nothing, with the status that says so. */
export function refusalPage(statusCode: number, message: string): ApiResult {
  const title =
    statusCode === 403
      ? "This link cannot be used"
      : statusCode === 404
        ? "Unknown approval link"
        : statusCode === 409
          ? "This approval link no longer works"
          : statusCode === 410
            ? "This approval link has expired"
            : statusCode >= 500
              ? "Sluice could not answer"
              : "This request cannot be used";
  return page(
    statusCode,
    title,
    `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p><p class="note">Nothing was decided.</p>`,
  );
}
