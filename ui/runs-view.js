import { getApp, listRuns } from "./api.js";
import { badge, h, revisionText, when } from "./dom.js";
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
  const [page, definition] = await Promise.all([
    listRuns({ app, status, cursor: params.get("cursor") ?? "" }),
    app ? getApp(app) : undefined,
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
