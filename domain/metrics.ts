import type { Run, RunKind, RunStatus } from "./run";

/**
 * DORA's five delivery metrics (2024 report) of one app over a period, computed from its run
 * history alone. The definitions, and what each number counts, are in docs/metrics.md.
 */

/** What the metrics read of a run: the plain record, no step attempts. */
export type MetricsRun = Pick<Run, "id" | "status" | "createdAt" | "plan" | "cursor"> & {
  kind?: RunKind | undefined;
  endedAt?: string | undefined;
  change?: { committedAt?: string | undefined } | undefined;
};

/** Where a change's lead time starts: its commit, when the intake knew its time, else its run. */
export type ChangeTimeSource = "commit" | "run-created";

/** One run that deployed to production, or failed there, and when that was settled. */
export interface ProductionDeployment {
  runId: string;
  kind: RunKind;
  outcome: "succeeded" | "failed";
  /** When the run ended: the production deployment's success, or its failure. */
  at: string;
  /** When its change began (see ChangeTimeSource). */
  changeAt: string;
  changeAtSource: ChangeTimeSource;
}

/**
 * A production deployment that failed: the run ended this way after it had begun a deploy step
 * of the production stage, so production was left with a change that needed remediation (a
 * rollback, a stop half-way, a failed wave or bake).
 */
const FAILED_IN_PRODUCTION: ReadonlySet<RunStatus> = new Set(["FAILED", "ROLLED_BACK", "STOPPED"]);

/**
 * The runs that reached production, oldest outcome first. Production is the app's production
 * stage: its waves are the deploy steps whose ids start with `<stage>/`. A run that never began
 * one of them (it failed in beta, was rejected at sign-off, was superseded) deployed nothing to
 * production and is not counted.
 */
export function productionDeployments(
  runs: readonly MetricsRun[],
  productionStage: string,
): ProductionDeployment[] {
  const deployments: ProductionDeployment[] = [];
  for (const run of runs) {
    const first = run.plan.steps.findIndex(
      (step) => step.kind === "deploy" && step.id.startsWith(`${productionStage}/`),
    );
    if (first < 0 || !run.endedAt) continue;
    const outcome =
      run.status === "SUCCEEDED"
        ? "succeeded"
        : FAILED_IN_PRODUCTION.has(run.status) && run.cursor >= first
          ? "failed"
          : undefined;
    if (!outcome) continue;
    const committedAt = run.change?.committedAt;
    deployments.push({
      runId: run.id,
      kind: run.kind ?? "release",
      outcome,
      at: run.endedAt,
      changeAt: committedAt ?? run.createdAt,
      changeAtSource: committedAt ? "commit" : "run-created",
    });
  }
  return deployments.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

export interface Period {
  /** ISO 8601, inclusive. */
  from: string;
  /** ISO 8601, exclusive. */
  to: string;
}

export interface DeliveryMetrics {
  period: Period & { days: number };
  deployments: { total: number; succeeded: number; failed: number };
  /** Successful production deployments per day and per week of the period. */
  deploymentFrequency: { deployments: number; perDay: number; perWeek: number };
  /** Change (commit, else run creation) to production success, of releases, in seconds. */
  changeLeadTime: {
    medianSeconds: number | null;
    samples: number;
    startedFrom: Record<ChangeTimeSource, number>;
  };
  /** The share of production deployments that failed; null without deployments. */
  changeFailRate: { rate: number | null; failed: number; deployments: number };
  /** From a failed production deployment to the next successful one, per incident, in seconds. */
  failedDeploymentRecoveryTime: {
    medianSeconds: number | null;
    incidents: number;
    unrecovered: number;
  };
  /** The share of production deployments made to remediate a failed one. */
  deploymentReworkRate: { rate: number | null; rework: number; deployments: number };
}

/**
 * The metrics of the deployments settled within the period. `deployments` may reach back before
 * it (oldest first, as productionDeployments gives them): an incident open when the period
 * begins makes the deployments that remedy it rework.
 */
export function deliveryMetrics(
  deployments: readonly ProductionDeployment[],
  period: Period,
): DeliveryMetrics {
  const from = Date.parse(period.from);
  const to = Date.parse(period.to);
  const within = (d: ProductionDeployment) => Date.parse(d.at) >= from && Date.parse(d.at) < to;
  const inPeriod = deployments.filter(within);
  const succeeded = inPeriod.filter((d) => d.outcome === "succeeded");
  const failed = inPeriod.filter((d) => d.outcome === "failed");
  const days = (to - from) / DAY_MS;

  const releases = succeeded.filter((d) => d.kind === "release");
  const leadTimes = releases.map((d) => seconds(Date.parse(d.at) - Date.parse(d.changeAt)));

  let rework = 0;
  const recoveries: number[] = [];
  let unrecovered = 0;
  // The failed deployment that opened the incident production is in, if it is in one.
  let incident: ProductionDeployment | undefined;
  for (const d of deployments) {
    if (Date.parse(d.at) >= to) break;
    const counted = within(d);
    if (counted && (incident !== undefined || d.kind === "rollback")) rework++;
    if (d.outcome === "failed") {
      incident ??= d;
      continue;
    }
    if (incident && within(incident)) {
      recoveries.push(seconds(Date.parse(d.at) - Date.parse(incident.at)));
    }
    incident = undefined;
  }
  if (incident && within(incident)) unrecovered = 1;

  return {
    period: { ...period, days },
    deployments: { total: inPeriod.length, succeeded: succeeded.length, failed: failed.length },
    deploymentFrequency: {
      deployments: succeeded.length,
      perDay: days > 0 ? succeeded.length / days : 0,
      perWeek: days > 0 ? (succeeded.length / days) * 7 : 0,
    },
    changeLeadTime: {
      medianSeconds: median(leadTimes),
      samples: leadTimes.length,
      startedFrom: {
        commit: releases.filter((d) => d.changeAtSource === "commit").length,
        "run-created": releases.filter((d) => d.changeAtSource === "run-created").length,
      },
    },
    changeFailRate: {
      rate: ratio(failed.length, inPeriod.length),
      failed: failed.length,
      deployments: inPeriod.length,
    },
    failedDeploymentRecoveryTime: {
      medianSeconds: median(recoveries),
      incidents: recoveries.length + unrecovered,
      unrecovered,
    },
    deploymentReworkRate: {
      rate: ratio(rework, inPeriod.length),
      rework,
      deployments: inPeriod.length,
    },
  };
}

const DAY_MS = 24 * 3600 * 1000;

function seconds(ms: number): number {
  return Math.round(ms / 1000);
}

function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
