import { describeRevision } from "../domain/revision";
import type { Run, RunView } from "../domain/run";

/** One line a run: id, status, what it deploys, when it was created. */
export function formatRunList(runs: readonly Run[]): string {
  if (runs.length === 0) return "no runs\n";
  return formatTable(runs.map((run) => [run.id, run.status, revisionOf(run), run.createdAt]));
}

/** Rows as aligned columns, two spaces apart; the last column is left as it is. */
export function formatTable(rows: readonly string[][]): string {
  const columns = Math.max(0, ...rows.map((row) => row.length - 1));
  const widths = Array.from({ length: columns }, (_, column) =>
    Math.max(...rows.map((row) => row[column]?.length ?? 0)),
  );
  return rows
    .map(
      (row) =>
        `${row
          .map((cell, i) => cell.padEnd(widths[i] ?? 0))
          .join("  ")
          .trimEnd()}\n`,
    )
    .join("");
}

/** A run with its stage history, in pipeline order. */
export function formatRun(run: RunView): string {
  const trigger = [
    run.trigger.type,
    run.trigger.by ? `by ${run.trigger.by}` : "",
    run.trigger.actor && run.trigger.actor !== run.trigger.by
      ? `(signed by ${run.trigger.actor})`
      : "",
    run.trigger.reason ? `(${run.trigger.reason})` : "",
  ];
  const width = Math.max(10, ...run.stages.map((stage) => stage.name.length));
  const lines = [
    `run       ${run.id}  ${run.status}`,
    `app       ${run.app}`,
    ...(run.kind === "rollback"
      ? ["kind      rollback: the production waves only, back to this revision"]
      : []),
    `revision  ${revisionOf(run)}`,
    `trigger   ${trigger.filter(Boolean).join(" ")}`,
    `created   ${run.createdAt}`,
    ...(run.endedAt ? [`ended     ${run.endedAt}`] : []),
    ...(run.error ? [`error     ${run.error.error}: ${run.error.cause}`] : []),
    ...(run.stopRequest
      ? [
          `stopped   by ${run.stopRequest.by}${run.stopRequest.reason ? `: ${run.stopRequest.reason}` : ""}`,
        ]
      : []),
    ...run.retries.map(
      (r) =>
        `retried   attempt ${r.attempt} by ${r.by}${r.reason ? `: ${r.reason}` : ""} at ${r.at}`,
    ),
    "stages",
    ...(run.stages.length === 0 ? ["  (none yet)"] : []),
    ...run.stages.map((stage) =>
      [
        `  ${stage.name.padEnd(width)} ${stage.status.padEnd(9)} ${stage.startedAt}`,
        stage.endedAt ? ` → ${stage.endedAt}` : stage.until ? ` (waits until ${stage.until})` : "",
        stage.attempt > 1 ? `  attempt ${stage.attempt}` : "",
        stage.message ? `  ${stage.message}` : "",
        stage.rollback
          ? `\n  ${"".padEnd(width)} rollback ${stage.rollback.status}: ${stage.rollback.message}`
          : "",
        ...(stage.overrides ?? []).map(
          (o) =>
            `\n  ${"".padEnd(width)} ${o.what === "bake" ? "bake cut short" : "let go"} by ${o.by} at ${o.at}: ${o.reason}`,
        ),
      ].join(""),
    ),
  ];
  return `${lines.join("\n")}\n`;
}

function revisionOf(run: Run): string {
  const { revision } = run;
  const described = `${revision.type} ${describeRevision(revision)}`;
  return revision.type === "bundle" && revision.sha256
    ? `${described} sha256:${revision.sha256.slice(0, 12)}`
    : described;
}
