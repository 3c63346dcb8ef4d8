import type { AuditEntry } from "./audit";
import { parseReleaseKey } from "./bundles/release-key";
import type { BundleRevision } from "./revision";
import type { HostResult, RunView, StepRecord } from "./run";
import { wavesOf } from "./wave-events";

/** One production wave of a run, as its records have it. */
export interface WaveView {
  step: string;
  stage: string;
  number: number;
  application: string;
  group: string;
  config: string;
  /** The wave's deployment step's status; NOT_STARTED before the run reaches it. */
  status: string;
  deploymentId?: string;
  bake?: { status: string; seconds: number; until?: string };
  hosts: { total: number; succeeded: number; failed: number; other: number };
  rollback?: StepRecord["rollback"];
}

/** One host a run deployed to, and what it runs as far as the run knows. */
export interface HostView {
  id: string;
  group: string;
  step: string;
  status: string;
  /** The bundle the host has from this run's step: the run's, or what it was rolled back to. */
  revision?: string;
  version?: string;
  failure?: string;
}

export interface TimelineEntry {
  sequence?: number;
  eventId?: string;
  detailType: string;
  at: string;
  detail?: Record<string, unknown>;
}

export type RunDetailView = RunView & {
  waves: WaveView[];
  hosts: HostView[];
  timeline: TimelineEntry[];
};

/** The latest attempt of each step, by its plan index. */
function latestSteps(run: RunView): Map<number, StepRecord> {
  const latest = new Map<number, StepRecord>();
  for (const step of run.steps) {
    const seen = latest.get(step.index);
    if (!seen || seen.attempt < step.attempt) latest.set(step.index, step);
  }
  return latest;
}

function counts(hosts: readonly HostResult[]) {
  const succeeded = hosts.filter((h) => h.status === "Succeeded").length;
  const failed = hosts.filter((h) => h.status === "Failed").length;
  return { total: hosts.length, succeeded, failed, other: hosts.length - succeeded - failed };
}

function named(revision: BundleRevision | undefined) {
  if (!revision) return {};
  const version = parseReleaseKey(revision.key)?.version;
  return { revision: revision.key, ...(version ? { version } : {}) };
}

/**
 * A run as a person follows it: its waves (host counts from the deployment, or from `live`
 * for one still deploying), every host it deployed to, and its events in order.
 */
export function runDetailView(
  run: RunView,
  events: readonly AuditEntry[],
  live: ReadonlyMap<string, readonly HostResult[]> = new Map(),
): RunDetailView {
  const latest = latestSteps(run);
  const hostsOf = (record: StepRecord | undefined): readonly HostResult[] =>
    record?.deployment?.hosts ??
    (record?.deploymentId ? (live.get(record.deploymentId) ?? []) : []);
  const waves = wavesOf(run.plan.steps).map((wave): WaveView => {
    const deployed = latest.get(wave.deployIndex);
    const baked = wave.bakeIndex === undefined ? undefined : latest.get(wave.bakeIndex);
    return {
      step: wave.id,
      stage: wave.stage,
      number: wave.number,
      application: wave.deploy.application,
      group: wave.deploy.deploymentGroup,
      config: wave.deploy.deploymentConfig,
      status: deployed?.status ?? "NOT_STARTED",
      ...(deployed?.deploymentId ? { deploymentId: deployed.deploymentId } : {}),
      ...(wave.bake
        ? {
            bake: {
              status: baked?.status ?? "NOT_STARTED",
              seconds: wave.bake.seconds,
              ...(baked?.until ? { until: baked.until } : {}),
            },
          }
        : {}),
      hosts: counts(hostsOf(deployed)),
      ...(deployed?.rollback ? { rollback: deployed.rollback } : {}),
    };
  });
  const runBundle = run.revision.type === "bundle" ? run.revision : undefined;
  const hosts = [...latest.values()]
    .filter((record) => record.kind === "deploy")
    .sort((a, b) => a.index - b.index)
    .flatMap((record) => {
      const step = run.plan.steps[record.index];
      const group = step?.kind === "deploy" ? step.deploymentGroup : "";
      const rolledBack = record.rollback?.status === "SUCCEEDED";
      return hostsOf(record).map(
        (host): HostView => ({
          id: host.id,
          group,
          step: record.step,
          status: host.status,
          ...named(
            host.status === "Succeeded" && !rolledBack ? runBundle : record.previousRevision,
          ),
          ...(host.failure ? { failure: host.failure } : {}),
        }),
      );
    });
  const timeline = events
    .filter((e) => e.kind === "event")
    .sort((a, b) => (a.sequence ?? 0) - (b.sequence ?? 0) || a.id.localeCompare(b.id))
    .map(
      (e): TimelineEntry => ({
        ...(e.sequence ? { sequence: e.sequence } : {}),
        ...(e.eventId ? { eventId: e.eventId } : {}),
        detailType: e.type,
        at: e.at,
        ...(e.detail ? { detail: e.detail } : {}),
      }),
    );
  return { ...run, waves, hosts, timeline };
}
