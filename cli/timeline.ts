import type { RunView } from "../domain/run";
import { formatTable, revisionOf } from "./format";

// What `sluice events` prints: what happened to a run, or to an app's runs, a line an entry.

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
    {
      at: run.createdAt,
      what: `run created (${run.kind ?? "release"} of ${revisionOf(run)})`,
      ...(run.trigger.by ? { by: run.trigger.by } : {}),
    },
    ...(run.startedAt ? [{ at: run.startedAt, what: "run started" }] : []),
    ...run.steps.flatMap((step) => {
      const name = `${step.step}${step.attempt > 1 ? ` (attempt ${step.attempt})` : ""}`;
      return [
        { at: step.startedAt, what: `${name} started` },
        ...(step.votes ?? []).map((vote) => ({
          at: vote.at,
          what: `${name}: ${vote.decision} via ${vote.via}${vote.comment ? `: ${vote.comment}` : ""}`,
          by: vote.by,
        })),
        ...(step.refusals ?? []).map((refusal) => ({
          at: refusal.at,
          what: `${name}: ${refusal.decision} refused: ${refusal.reason}`,
          by: refusal.by,
        })),
        ...(step.endedAt
          ? [
              {
                at: step.endedAt,
                what: `${name} ${step.status}${step.message ? `: ${step.message}` : ""}`,
              },
            ]
          : []),
      ];
    }),
    ...run.retries.map((retry) => ({
      at: retry.at,
      what: `retried (attempt ${retry.attempt})${retry.reason ? `: ${retry.reason}` : ""}`,
      by: retry.by,
    })),
    ...(run.stopRequest
      ? [
          {
            at: run.stopRequest.at,
            what: `stop asked${run.stopRequest.reason ? `: ${run.stopRequest.reason}` : ""}`,
            by: run.stopRequest.by,
          },
        ]
      : []),
    ...(run.endedAt
      ? [
          {
            at: run.endedAt,
            what: `run ${run.status}${run.error ? `: ${run.error.error}: ${run.error.cause}` : ""}`,
          },
        ]
      : []),
  ];
  return entries.sort((a, b) => a.at.localeCompare(b.at));
}

/**
 * An audit trail's entries, field by field as far as they are known (the trail's shape is the
 * API's): when, which run, what, who.
 */
export function auditEntries(items: readonly Record<string, unknown>[]): TimelineEntry[] {
  const text = (value: unknown) => (typeof value === "string" ? value : undefined);
  return items.map((item) => {
    const detail = (item.detail ?? {}) as Record<string, unknown>;
    const what =
      text(item.action) ?? text(item.detailType) ?? text(item["detail-type"]) ?? text(item.type);
    const why = text(item.reason) ?? text(detail.reason) ?? text(item.message);
    const run = text(item.runId) ?? text(detail.runId);
    const by = text(item.by) ?? text(item.actor) ?? text(detail.by);
    return {
      at: text(item.at) ?? text(item.time) ?? text(item.createdAt) ?? "",
      what: `${what ?? "event"}${why ? `: ${why}` : ""}`,
      ...(run ? { run } : {}),
      ...(by ? { by } : {}),
    };
  });
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
