import { decide, getAudit, getFleet, getRun } from "./api.js";
import { signedInEmail } from "./auth.js";
import { badge, h, revisionText, section, took, when } from "./dom.js";
import { poll } from "./poll.js";

const LIVE = new Set(["QUEUED", "RUNNING"]);
const POLL_MS = 1500;

/**
 * A run's page: its stages and waves as a timeline, the approval it waits in, the hosts of
 * each deployment group, and its audit trail. While the run is live the page asks for it again
 * every POLL_MS and redraws; the function it answers (called on leaving the page) ends that.
 */
export function runView(id, main) {
  let notice;
  const page = poll(async (stopped) => {
    const run = await getRun(id);
    if (stopped()) return undefined;
    if (!run) {
      main.replaceChildren(h("h1", {}, "Run not found"), h("p", {}, `There is no run ${id}.`));
      return undefined;
    }
    const [audit, fleet] = await Promise.all([getAudit(id), getFleet(run.app)]);
    if (stopped()) return undefined;
    const comment = main.querySelector("textarea[name=comment]")?.value ?? "";
    const onDecide = async (decision, text) => {
      const answer = await decide(id, decision, text);
      notice = answer.ok
        ? { ok: true, text: outcomeText(answer.data) }
        : { ok: false, text: answer.data?.message ?? `refused (${answer.status})` };
      page.refresh();
    };
    main.replaceChildren(
      ...header(run),
      timeline(run),
      approval(run, comment, onDecide, notice),
      hosts(run, fleet),
      trail(run, audit),
    );
    return LIVE.has(run.status) ? POLL_MS : undefined;
  });
  return page.stop;
}

function outcomeText(outcome) {
  if (outcome?.outcome === "approved") return `Approved by ${outcome.by}: the run goes on.`;
  if (outcome?.outcome === "rejected") return `Rejected by ${outcome.by}: the run stops.`;
  if (outcome?.outcome === "recorded")
    return `Recorded: ${outcome.approvals} of ${outcome.required} approvals.`;
  return "Recorded.";
}

function header(run) {
  const author = run.change?.author;
  return [
    h(
      "p",
      { class: "crumbs" },
      h("a", { href: `#/runs?app=${encodeURIComponent(run.app)}` }, `Runs of ${run.app}`),
    ),
    h(
      "h1",
      {},
      `${run.app} `,
      badge(run.status),
      h("span", { class: "live" }, LIVE.has(run.status) ? " live" : ""),
    ),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Run"),
      h("dd", {}, run.id),
      h("dt", {}, "Revision"),
      h("dd", {}, revisionText(run.revision)),
      run.change?.message && [
        h("dt", {}, "Change"),
        h("dd", { class: "message" }, run.change.message),
      ],
      author && [
        h("dt", {}, "Author"),
        h("dd", {}, author.name ?? author.email ?? author.username),
      ],
      h("dt", {}, "Asked by"),
      h("dd", {}, run.trigger?.by ?? run.trigger?.actor ?? run.trigger?.type ?? ""),
      h("dt", {}, "Created"),
      h("dd", {}, when(run.createdAt)),
      run.endedAt && [
        h("dt", {}, "Took"),
        h("dd", {}, took(run.startedAt ?? run.createdAt, run.endedAt)),
      ],
      run.error && [
        h("dt", {}, "Error"),
        h("dd", { class: "error" }, `${run.error.error}: ${run.error.cause}`),
      ],
    ),
  ];
}

/** The latest attempt at each plan step, by its place in the plan. */
function latestRecords(run) {
  const latest = new Map();
  for (const record of run.steps ?? []) {
    const seen = latest.get(record.index);
    if (!seen || record.attempt >= seen.attempt) latest.set(record.index, record);
  }
  return latest;
}

function stepDetail(step, record) {
  if (step.kind === "deploy") return `deploy to ${step.deploymentGroup}`;
  if (step.kind === "bake")
    return record?.status === "RUNNING"
      ? `baking ${step.deploymentGroup}, ${took(record.startedAt)}`
      : `bake ${step.deploymentGroup}`;
  if (step.kind === "wait") return record?.until ? `wait until ${when(record.until)}` : "wait";
  if (step.kind === "build" && step.skip) return step.skip;
  return step.kind;
}

function timeline(run) {
  const records = latestRecords(run);
  const steps = run.plan?.steps ?? [];
  return section(
    "Timeline",
    h(
      "ol",
      { class: "timeline" },
      steps.map((step, i) => {
        const record = records.get(i);
        const status = record?.status ?? (step.skip ? "SKIPPED" : "PENDING");
        return h(
          "li",
          {
            "data-step": step.id,
            "data-status": status,
            class: i === run.cursor ? "current" : undefined,
          },
          badge(status),
          h("strong", {}, step.id),
          h("span", { class: "detail" }, stepDetail(step, record)),
          record?.startedAt && h("span", { class: "time" }, took(record.startedAt, record.endedAt)),
          record?.message &&
            record.message !== step.skip &&
            h("span", { class: "message" }, record.message),
          record?.rollback &&
            h(
              "span",
              { class: "message" },
              `rollback ${record.rollback.status}: ${record.rollback.message}`,
            ),
        );
      }),
    ),
  );
}

/** The approval the run waits in, with the buttons for whoever may decide. */
function approval(run, comment, onDecide, notice) {
  const step = run.plan?.steps?.[run.cursor];
  const record = latestRecords(run).get(run.cursor);
  const waiting =
    run.status === "RUNNING" && step?.kind === "approval" && record?.status === "RUNNING";
  const said =
    notice && h("p", { class: notice.ok ? "notice" : "refusal", role: "status" }, notice.text);
  if (!waiting) return said ? section("Approval", said) : "";
  const approvers = step.approvers ?? [];
  const me = signedInEmail();
  // The API decides who may; the buttons are left out only for a person it would surely refuse.
  const mayDecide =
    approvers.length === 0 ||
    me === undefined ||
    approvers.some((a) => a.email?.toLowerCase() === me.toLowerCase());
  const votes = record.votes ?? [];
  const approvals = new Set(
    votes.filter((v) => v.decision === "approve").map((v) => v.approver ?? v.by),
  ).size;
  const buttons = h(
    "form",
    {
      class: "decide",
      onsubmit: (event) => {
        event.preventDefault();
        const decision = event.submitter?.value;
        const text = new FormData(event.target).get("comment");
        for (const b of event.target.querySelectorAll("button")) b.disabled = true;
        onDecide(decision, typeof text === "string" ? text.trim() : "");
      },
    },
    h("label", {}, "Comment (optional)", h("textarea", { name: "comment", maxlength: "1000" })),
    h("button", { type: "submit", value: "approve", class: "approve" }, "Approve"),
    h("button", { type: "submit", value: "reject", class: "reject" }, "Reject"),
  );
  const area = buttons.querySelector("textarea");
  area.value = comment;
  return section(
    "Approval",
    h(
      "p",
      {},
      `Stage ${step.id} waits for approval: ${approvals} of ${step.requiredApprovals ?? 1} needed`,
      record.request?.expiresAt ? `, open until ${when(record.request.expiresAt)}.` : ".",
    ),
    approvers.length > 0 &&
      h(
        "p",
        { class: "note" },
        `Approvers: ${approvers.map((a) => a.email ?? a.slack ?? a.iam).join(", ")}`,
      ),
    mayDecide ? buttons : h("p", { class: "note" }, `${me} is not an approver of this stage.`),
    said,
  );
}

/**
 * Each deployment group's hosts and the revision each runs: the fleet's when the API tells it,
 * else what this run's deployments did to them.
 */
function hosts(run, fleet) {
  const groups = fleet?.groups ?? fleet?.deploymentGroups;
  if (Array.isArray(groups) && groups.length > 0) {
    return section(
      "Hosts",
      groups.map((g) =>
        h(
          "div",
          { class: "group", "data-group": g.name ?? g.deploymentGroup },
          h("h3", {}, g.name ?? g.deploymentGroup),
          hostTable(
            (g.hosts ?? []).map((host) => [
              host.id,
              host.status ?? "",
              revisionText(host.revision) || host.revision || "",
              host.failure ?? "",
            ]),
          ),
        ),
      ),
    );
  }
  const deployed = (run.steps ?? []).filter((s) => s.deployment?.hosts?.length);
  if (deployed.length === 0) return "";
  const latest = new Map();
  for (const s of deployed) latest.set(s.deployment.deploymentGroup, s);
  return section(
    "Hosts",
    h("p", { class: "note" }, "As this run's deployments left them."),
    [...latest.values()].map((s) =>
      h(
        "div",
        { class: "group", "data-group": s.deployment.deploymentGroup },
        h("h3", {}, s.deployment.deploymentGroup, " ", badge(s.deployment.status)),
        hostTable(
          s.deployment.hosts.map((host) => [
            host.id,
            host.status,
            // A host runs the run's revision once it took it, unless the run rolled it back.
            host.status === "Succeeded" && s.rollback?.status !== "SUCCEEDED"
              ? revisionText(run.revision)
              : revisionText(s.previousRevision),
            host.failure ?? "",
          ]),
        ),
      ),
    ),
  );
}

function hostTable(rows) {
  return h(
    "table",
    { class: "hosts" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["Host", "Status", "Revision", "Failure"].map((t) => h("th", {}, t)),
      ),
    ),
    h(
      "tbody",
      {},
      rows.map((cells) =>
        h(
          "tr",
          {},
          cells.map((c) => h("td", {}, c)),
        ),
      ),
    ),
  );
}

/**
 * Who did what, newest first: the audit trail when the API has it, each entry in the words
 * `sluice events` prints (its summary), else the run's own steps, with why in a column.
 */
function trail(run, audit) {
  const rows = Array.isArray(audit?.entries)
    ? audit.entries.map((a) => ({
        at: a.at,
        what: a.summary ?? a.type,
        by: a.by ?? "",
        // A summary says why already, in its own words.
        why: a.summary ? "" : (a.reason ?? ""),
      }))
    : stepTrail(run);
  if (rows.length === 0) return "";
  rows.sort((a, b) => String(b.at).localeCompare(String(a.at)));
  const withWhy = rows.some((r) => r.why);
  return section(
    "Audit trail",
    audit?.partial
      ? h(
          "p",
          { class: "partial" },
          `Older entries are not shown: sluice events ${run.id} prints them all.`,
        )
      : undefined,
    h(
      "table",
      { class: "audit" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["When", "What", "Who", ...(withWhy ? ["Why"] : [])].map((t) => h("th", {}, t)),
        ),
      ),
      h(
        "tbody",
        {},
        rows.map((r) =>
          h(
            "tr",
            {},
            h("td", {}, when(r.at)),
            h("td", {}, r.what),
            h("td", {}, r.by),
            ...(withWhy ? [h("td", {}, r.why)] : []),
          ),
        ),
      ),
    ),
  );
}

function stepTrail(run) {
  const rows = [
    {
      at: run.createdAt,
      what: "run asked for",
      by: run.trigger?.by ?? run.trigger?.actor ?? "",
      why: run.trigger?.reason ?? "",
    },
  ];
  for (const s of run.steps ?? []) {
    rows.push({ at: s.startedAt, what: `${s.step} started`, by: "", why: "" });
    if (s.endedAt)
      rows.push({
        at: s.endedAt,
        what: `${s.step} ${s.status.toLowerCase()}`,
        by: "",
        why: s.message ?? "",
      });
    for (const v of s.votes ?? [])
      rows.push({
        at: v.at,
        what: `${s.step}: ${v.decision} (${v.via})`,
        by: v.by,
        why: v.comment ?? "",
      });
    for (const r of s.refusals ?? [])
      rows.push({ at: r.at, what: `${s.step}: ${r.decision} refused`, by: r.by, why: r.reason });
  }
  if (run.stopRequest)
    rows.push({
      at: run.stopRequest.at,
      what: "stop asked for",
      by: run.stopRequest.by,
      why: run.stopRequest.reason ?? "",
    });
  for (const r of run.retries ?? [])
    rows.push({ at: r.at, what: `retry (attempt ${r.attempt})`, by: r.by, why: r.reason ?? "" });
  return rows;
}
