import type { AppSummary } from "../domain/app-summary";
import { revisionOf } from "../domain/revision";
import type { Run, RunView } from "../domain/run";
import { duration } from "../domain/time-text";
import type { AppMetrics } from "../usecases/delivery-metrics";
import { approvalHints, approvalState, type HintPlace, hostCount } from "./progress";

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

/**
 * A run with its stage history, in pipeline order. An approval it waits in says how far it
 * is and where to decide, with the commands as `where` the CLI runs (its API, its invocation).
 */
export function formatRun(
  run: RunView,
  where: HintPlace = { api: "<api>", command: "sluice" },
): string {
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
        hostsOf(run, stage.name),
        stage.message ? `  ${stage.message}` : "",
        stage.rollback
          ? `\n  ${"".padEnd(width)} rollback ${stage.rollback.status}: ${stage.rollback.message}`
          : "",
        ...awaitedApproval(run, stage.name, where).map((line) => `\n  ${"".padEnd(width)} ${line}`),
        ...(stage.overrides ?? []).map(
          (o) =>
            `\n  ${"".padEnd(width)} ${o.what === "bake" ? "bake cut short" : "let go"} by ${o.by} at ${o.at}: ${o.reason}`,
        ),
      ].join(""),
    ),
  ];
  return `${lines.join("\n")}\n`;
}

/** For the approval the run waits in at `stage`: how far it is, and where to decide. */
function awaitedApproval(run: RunView, stage: string, where: HintPlace): string[] {
  const planned = run.plan.steps.find((step) => step.id === stage);
  const record = run.steps.findLast((step) => step.step === stage && step.attempt === run.attempt);
  if (planned?.kind !== "approval" || record?.status !== "RUNNING") return [];
  return [approvalState(planned, record), ...approvalHints(run.id, planned, record, where)];
}

/** A deploy stage's host count, from its latest attempt's deployment. */
function hostsOf(run: RunView, stage: string): string {
  const attempts = run.steps.filter((step) => step.step === stage);
  const latest = attempts.reduce<(typeof attempts)[number] | undefined>(
    (seen, step) => (!seen || seen.attempt < step.attempt ? step : seen),
    undefined,
  );
  const hosts = hostCount(latest?.deployment);
  return hosts ? `  ${hosts}` : "";
}

/** Where lead times were timed from: each release's commit, else its run's creation. */
function leadStarts(from: { commit: number; "run-created": number }): string {
  const parts = [
    from.commit ? `${from.commit} from the commit` : "",
    from["run-created"]
      ? `${from["run-created"]} from the run's creation: no commit time known`
      : "",
  ];
  return `timed ${parts.filter(Boolean).join(", ")}`;
}

/** One line an app: its name, execution mode, its stages in order, when it last changed. */
export function formatAppList(apps: readonly AppSummary[]): string {
  if (apps.length === 0) return "no apps\n";
  return formatTable([
    ["APP", "MODE", "UPDATED", "STAGES"],
    ...apps.map((app) => [
      app.name,
      app.executionMode,
      app.updatedAt,
      app.stages.map((stage) => stage.name).join(" → ") || "(none)",
    ]),
  ]);
}

/**
 * One line a run, with its app: the list `sluice runs` prints across apps; then, when there are
 * more, the command that lists the next page.
 */
export function formatRuns(runs: readonly Run[], more?: string): string {
  if (runs.length === 0) return "no runs\n";
  const table = formatTable([
    ["RUN", "APP", "STATUS", "CREATED", "REVISION"],
    ...runs.map((run) => [run.id, run.app, run.status, run.createdAt, revisionOf(run)]),
  ]);
  return more ? `${table}more: ${more}\n` : table;
}

const NO_DEPLOYMENTS = "n/a (no production deployments)";

/** The recovery time's line: a median only once an incident was recovered from. */
function recoveryTime(recovered: number, unrecovered: number, median: string): string {
  const pending = `${unrecovered} not recovered yet`;
  if (recovered === 0) return unrecovered ? `n/a (${pending})` : "n/a (no failed deployments)";
  return `median ${median} over ${recovered} recovered incident${recovered === 1 ? "" : "s"}${unrecovered ? `, ${pending}` : ""}`;
}

/** `sluice metrics`: the five DORA metrics, one a line, with what each was computed from. */
export function formatMetrics(m: AppMetrics): string {
  const percent = (rate: number | null) => (rate === null ? "n/a" : `${Math.round(rate * 100)}%`);
  const time = (seconds: number | null) => (seconds === null ? "n/a" : duration(seconds));
  const f = m.deploymentFrequency;
  const lead = m.changeLeadTime;
  const fail = m.changeFailRate;
  const recovery = m.failedDeploymentRecoveryTime;
  const rework = m.deploymentReworkRate;
  const header = `app ${m.app}, ${m.period.from} → ${m.period.to} (${Math.round(m.period.days * 10) / 10} days)`;
  if (!m.productionStage) {
    return `${header}\nno production stage: nothing is deployed to production, so there is nothing to measure\n`;
  }
  return `${header}, production stage ${m.productionStage}\n${formatTable([
    [
      "deployment frequency",
      `${f.perDay.toFixed(2)} a day, ${f.perWeek.toFixed(1)} a week (${f.deployments} successful production deployment${f.deployments === 1 ? "" : "s"})`,
    ],
    [
      "change lead time",
      lead.samples === 0
        ? "n/a (no release reached production)"
        : `median ${time(lead.medianSeconds)} over ${lead.samples} release${lead.samples === 1 ? "" : "s"} (${leadStarts(lead.startedFrom)})`,
    ],
    [
      "change fail rate",
      fail.deployments === 0
        ? NO_DEPLOYMENTS
        : `${percent(fail.rate)} (${fail.failed} of ${fail.deployments} production deployments failed)`,
    ],
    [
      "failed deployment recovery time",
      recoveryTime(
        recovery.incidents - recovery.unrecovered,
        recovery.unrecovered,
        time(recovery.medianSeconds),
      ),
    ],
    [
      "deployment rework rate",
      rework.deployments === 0
        ? NO_DEPLOYMENTS
        : `${percent(rework.rate)} (${rework.rework} of ${rework.deployments} production deployments remediated a failed one)`,
    ],
  ])}`;
}
