import { listRuns } from "./api.js";
import { badge, h, revisionText, when } from "./dom.js";

/** The runs list: all apps' when the API can list them, else one app's, newest first. */
export async function runsView(params) {
  const app = params.get("app") ?? "";
  const status = params.get("status") ?? "";
  const page = await listRuns({ app, status, cursor: params.get("cursor") ?? "" });
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
    return [
      h("h1", {}, "Runs"),
      filter,
      h(
        "p",
        { class: "note" },
        app ? `No runs to show for app ${app}.` : "Name an app to see its runs.",
      ),
    ];
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
  return [
    h("h1", {}, app ? `Runs of ${app}` : "Runs"),
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
}
