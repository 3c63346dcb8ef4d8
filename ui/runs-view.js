import { getApp, getMetrics, listRuns } from "./api.js";
import { badge, h, revisionText, section, when } from "./dom.js";
import { poll } from "./poll.js";

/**
 * The runs list: all apps' when the API can list them, else one app's, newest first. It is
 * asked for again every 2 seconds, so new runs and their statuses show as they come; the
 * function it answers (called on leaving the page) ends that.
 */
export function runsView(params, main) {
  return poll(async (stopped) => {
    const content = await runsPage(params);
    if (stopped()) return undefined;
    // Not redrawn under a person typing into the filter.
    if (!main.querySelector(".filter")?.contains(document.activeElement))
      main.replaceChildren(...content);
    return 2000;
  }).stop;
}

async function runsPage(params) {
  const app = params.get("app") ?? "";
  const status = params.get("status") ?? "";
  const [page, definition, metrics] = await Promise.all([
    listRuns({ app, status, cursor: params.get("cursor") ?? "" }),
    app ? getApp(app) : undefined,
    app ? getMetrics(app) : undefined,
  ]);
  const stages = definition?.pipeline?.stages;
  const pipeline = Array.isArray(stages)
    ? h("p", { class: "note" }, `Pipeline: ${stages.map((stage) => stage.name).join(" → ")}`)
    : undefined;
  const filter = h(
    "form",
    {
      class: "filter",
      onsubmit: (event) => {
        event.preventDefault();
        const form = new FormData(event.target);
        const query = new URLSearchParams([...form].filter(([, v]) => v !== ""));
        location.hash = `#/runs?${query}`;
      },
    },
    h("label", {}, "App ", h("input", { name: "app", value: app, placeholder: "all apps" })),
    h(
      "label",
      {},
      "Status ",
      h(
        "select",
        { name: "status" },
        [
          "",
          "QUEUED",
          "RUNNING",
          "SUCCEEDED",
          "FAILED",
          "ROLLED_BACK",
          "STOPPED",
          "SUPERSEDED",
        ].map((s) => h("option", { value: s, selected: s === status }, s || "any")),
      ),
    ),
    h("button", { type: "submit" }, "Show"),
  );
  if (!page) {
    const content = [
      h("h1", {}, "Runs"),
      filter,
      h(
        "p",
        { class: "note" },
        app ? `No runs to show for app ${app}.` : "Name an app to see its runs.",
      ),
    ];
    return content;
  }
  const rows = page.runs.map((run) =>
    h(
      "tr",
      { "data-run": run.id },
      h("td", {}, badge(run.status)),
      h("td", {}, h("a", { href: `#/runs/${encodeURIComponent(run.id)}` }, run.id)),
      h("td", {}, h("a", { href: `#/runs?app=${encodeURIComponent(run.app)}` }, run.app)),
      h("td", {}, revisionText(run.revision)),
      h("td", {}, run.change?.message?.split("\n")[0] ?? ""),
      h("td", {}, when(run.createdAt)),
    ),
  );
  const next = page.cursor
    ? h(
        "a",
        {
          href: `#/runs?${new URLSearchParams({ ...(app ? { app } : {}), ...(status ? { status } : {}), cursor: page.cursor })}`,
        },
        "Older runs",
      )
    : undefined;
  const content = [
    h("h1", {}, app ? `Runs of ${app}` : "Runs"),
    pipeline,
    filter,
    metrics?.period ? metricsSection(metrics) : undefined,
    rows.length
      ? h(
          "table",
          { class: "runs" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Status", "Run", "App", "Revision", "Change", "Created"].map((t) => h("th", {}, t)),
            ),
          ),
          h("tbody", {}, rows),
        )
      : h("p", { class: "note" }, "No runs yet."),
    next,
  ];
  return content;
}

/** The app's five DORA delivery metrics over the period the API measured (docs/metrics.md). */
function metricsSection(m) {
  const percent = (rate) => (rate === null ? "n/a" : `${Math.round(rate * 100)}%`);
  const time = (seconds) => {
    if (seconds === null) return "n/a";
    if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
    if (seconds < 86_400) return `${(seconds / 3600).toFixed(1)} h`;
    return `${(seconds / 86_400).toFixed(1)} days`;
  };
  const days = Math.round(m.period.days);
  if (!m.productionStage) {
    return section(
      "Delivery",
      h("p", { class: "note" }, "No production stage: nothing to measure."),
    );
  }
  const f = m.deploymentFrequency;
  const lead = m.changeLeadTime;
  const fail = m.changeFailRate;
  const recovery = m.failedDeploymentRecoveryTime;
  const rework = m.deploymentReworkRate;
  const rows = [
    [
      "Deployment frequency",
      `${f.perWeek.toFixed(1)} a week (${f.deployments} successful production deployment${f.deployments === 1 ? "" : "s"})`,
    ],
    [
      "Change lead time",
      `median ${time(lead.medianSeconds)} over ${lead.samples} release${lead.samples === 1 ? "" : "s"}`,
    ],
    ["Change fail rate", `${percent(fail.rate)} (${fail.failed} of ${fail.deployments})`],
    [
      "Failed deployment recovery time",
      `median ${time(recovery.medianSeconds)} (${recovery.unrecovered} not recovered yet)`,
    ],
    [
      "Deployment rework rate",
      `${percent(rework.rate)} (${rework.rework} of ${rework.deployments})`,
    ],
  ];
  return section(
    "Delivery",
    h("p", { class: "note" }, `DORA metrics of the last ${days} days`),
    h(
      "table",
      { class: "metrics" },
      h(
        "tbody",
        {},
        rows.map(([name, value]) => h("tr", {}, h("th", {}, name), h("td", {}, value))),
      ),
    ),
  );
}
