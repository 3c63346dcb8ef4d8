import type { Tag, TagFilter } from "./store";

/** Whether any of a group's tag filters picks an instance with these tags, as CodeDeploy reads them. */
export function matchesAny(tags: readonly Tag[], filters: readonly TagFilter[]): boolean {
  return filters.some((filter) =>
    tags.some((tag) => {
      switch (filter.Type ?? "KEY_AND_VALUE") {
        case "KEY_ONLY":
          return tag.Key === filter.Key;
        case "VALUE_ONLY":
          return tag.Value === filter.Value;
        default:
          return tag.Key === filter.Key && tag.Value === filter.Value;
      }
    }),
  );
}
