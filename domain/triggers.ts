import picomatch from "picomatch";
import type { Change } from "./webhooks/change";
import * as z from "./zod";

export const GlobFilterSchema = z.object({
  includes: z._default(z.array(z.string()), []),
  excludes: z._default(z.array(z.string()), []),
});
export type GlobFilter = z.infer<typeof GlobFilterSchema>;

export const TriggerSchema = z.object({
  branches: z.optional(GlobFilterSchema),
  tags: z.optional(GlobFilterSchema),
  filePaths: z.optional(GlobFilterSchema),
});
export type Trigger = z.infer<typeof TriggerSchema>;

/**
 * `trigger` is the index of the first trigger that matched, or -1 when the pipeline has no
 * triggers at all (then every branch and tag push starts a run).
 */
export type TriggerMatch = { matched: true; trigger: number } | { matched: false; reason: string };

// Dot files (.github/, .env.example) are ordinary paths to a pipeline author, so `**` covers them.
const GLOB_OPTIONS = { dot: true };
const PATHS_SHOWN = 5;

type RefFilterName = "branches" | "tags";

/**
 * Decides whether a push starts a run, CodePipeline V2 style: a trigger matches when its
 * `branches` (for a branch push) or `tags` (for a tag push) accept the ref name and, if it
 * has `filePaths`, at least one changed path passes them. The first matching trigger wins.
 */
export function matchTriggers(triggers: readonly Trigger[], change: Change): TriggerMatch {
  if (triggers.length === 0) return { matched: true, trigger: -1 };

  const refFilterName: RefFilterName = change.refType === "branch" ? "branches" : "tags";
  const pathMisses: PathMiss[] = [];
  for (const [index, trigger] of triggers.entries()) {
    const refFilter = trigger[refFilterName];
    if (refFilter === undefined || !compile(refFilter)(change.refName)) continue;
    const pathFilter = trigger.filePaths;
    if (pathFilter === undefined || pathsPass(pathFilter, change.changedPaths)) {
      return { matched: true, trigger: index };
    }
    pathMisses.push({ index, filter: pathFilter });
  }

  const reason =
    pathMisses.length === 0
      ? refMismatchReason(triggers, change, refFilterName)
      : pathMismatchReason(change, pathMisses);
  return { matched: false, reason };
}

interface PathMiss {
  index: number;
  filter: GlobFilter;
}

function pathsPass(filter: GlobFilter, changedPaths: readonly string[] | null): boolean {
  // Without a file list the filter cannot be applied; deploying is the safer error than
  // silently dropping a change that may have touched the filtered paths.
  if (changedPaths === null) return true;
  return changedPaths.some(compile(filter));
}

/** A value passes when it matches an include (or there are none) and no exclude. */
function compile(filter: GlobFilter): (value: string) => boolean {
  const included =
    filter.includes.length === 0 ? () => true : picomatch(filter.includes, GLOB_OPTIONS);
  const excluded =
    filter.excludes.length === 0 ? () => false : picomatch(filter.excludes, GLOB_OPTIONS);
  return (value) => included(value) && !excluded(value);
}

function refMismatchReason(
  triggers: readonly Trigger[],
  change: Change,
  refFilterName: RefFilterName,
): string {
  const filters = triggers.flatMap((trigger) => trigger[refFilterName] ?? []);
  const accepted =
    filters.length === 0
      ? `no trigger filters ${refFilterName}`
      : `${refFilterName}: ${filters.map(describe).join("; ")}`;
  const inert = triggers.flatMap((trigger, index) =>
    trigger.branches === undefined && trigger.tags === undefined ? [index] : [],
  );
  const inertNote =
    inert.length === 0
      ? ""
      : `; ${plural(inert, "trigger")} ${inert.join(", ")} ${inert.length === 1 ? "has" : "have"} neither branches nor tags and ${inert.length === 1 ? "matches" : "match"} nothing`;
  return `${change.refType} "${change.refName}" matches no trigger (${accepted})${inertNote}`;
}

function pathMismatchReason(change: Change, misses: readonly PathMiss[]): string {
  const paths = change.changedPaths ?? [];
  const shown = paths.slice(0, PATHS_SHOWN).join(", ");
  const listed = paths.length > PATHS_SHOWN ? `${shown}, …` : shown;
  const indexes = misses.map((miss) => miss.index);
  const filters = misses.map((miss) => describe(miss.filter));
  return (
    `${change.refType} "${change.refName}" matches ${plural(indexes, "trigger")} ${indexes.join(", ")}, ` +
    `but none of the ${paths.length} changed ${paths.length === 1 ? "path" : "paths"}` +
    `${paths.length === 0 ? "" : ` (${listed})`} passes its filePaths (${filters.join("; ")})`
  );
}

function describe(filter: GlobFilter): string {
  const includes = filter.includes.length === 0 ? "any" : filter.includes.join(", ");
  return filter.excludes.length === 0
    ? includes
    : `${includes} except ${filter.excludes.join(", ")}`;
}

function plural(items: readonly unknown[], word: string): string {
  return items.length === 1 ? word : `${word}s`;
}
