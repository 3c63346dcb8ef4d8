import type { AuditEntry } from "../domain/audit";
import {
  auditLine,
  created,
  refused,
  retried,
  runEnded,
  stepEnded,
  stepName,
  stopAsked,
  voted,
} from "../domain/audit-lines";
import type { RunView } from "../domain/run";
import { formatTable } from "./format";

// What `sluice events` prints: what happened to a run, or to an app's runs, a line an entry,
// in the words of domain/audit-lines.ts.

/** Something that happened to a run, as the audit trail or the run's own record says it. */
export interface TimelineEntry {
  at: string;
  run?: string;
  what: string;
  by?: string;
}

/**
 * What a run's record says happened, oldest first: its creation, each step attempt's start and
 * end, each vote and refused vote, each retry and stop, its end. What `sluice events` shows
 * where the API keeps no audit trail.
 */
export function timelineOf(run: RunView): TimelineEntry[] {
  const entries: TimelineEntry[] = [
    { at: run.createdAt, what: created(run), ...(run.trigger.by ? { by: run.trigger.by } : {}) },
    ...(run.startedAt ? [{ at: run.startedAt, what: "run started" }] : []),
    ...run.steps.flatMap((step) => {
      const name = stepName(step.step, step.attempt);
      return [
        { at: step.startedAt, what: `${name} started` },
        ...(step.votes ?? []).map((vote) => ({
          at: vote.at,
          what: voted(name, vote),
          by: vote.by,
        })),
        ...(step.refusals ?? []).map((refusal) => ({
          at: refusal.at,
          what: refused(name, refusal),
          by: refusal.by,
        })),
        ...(step.endedAt
          ? [{ at: step.endedAt, what: stepEnded(name, step.status, step.message) }]
          : []),
      ];
    }),
    ...run.retries.map((retry) => ({
      at: retry.at,
      what: retried(retry.attempt, retry.reason),
      by: retry.by,
    })),
    ...(run.stopRequest
      ? [
          {
            at: run.stopRequest.at,
            what: stopAsked(run.stopRequest.reason),
            by: run.stopRequest.by,
          },
        ]
      : []),
    ...(run.endedAt ? [{ at: run.endedAt, what: runEnded(run.status, run.error) }] : []),
  ];
  return entries.sort((a, b) => a.at.localeCompare(b.at));
}

/**
 * The audit trail's entries (GET /runs/{id}/audit, GET /apps/{app}/audit) as lines: when, which
 * run, what, who.
 */
export function auditEntries(entries: readonly AuditEntry[]): TimelineEntry[] {
  return entries.map((entry) => ({
    at: entry.at,
    what: auditLine(entry),
    ...(entry.runId ? { run: entry.runId } : {}),
    ...(entry.by ? { by: entry.by } : {}),
  }));
}

export function formatTimeline(entries: readonly TimelineEntry[]): string {
  if (entries.length === 0) return "no events\n";
  const withRuns = entries.some((entry) => entry.run);
  return formatTable(
    entries.map((entry) => [
      entry.at,
      ...(withRuns ? [entry.run ?? ""] : []),
      entry.by ? `${entry.what} (by ${entry.by})` : entry.what,
    ]),
  );
}
