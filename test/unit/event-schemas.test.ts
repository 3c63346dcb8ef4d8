import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { lifecycleEventJsonSchema, schemaFileName } from "../../domain/event-schemas";
import { LIFECYCLE_EVENTS, type LifecycleDetailType } from "../../domain/lifecycle-events";
import { PROJECT_ROOT } from "../../local/stack";

const dir = path.join(PROJECT_ROOT, "events/schemas");
const detailTypes = Object.keys(LIFECYCLE_EVENTS) as LifecycleDetailType[];

describe("events/schemas/", () => {
  it.each(detailTypes)(
    "holds the current schema of %s (npm run schemas rewrites them)",
    async (type) => {
      const published = JSON.parse(await readFile(path.join(dir, schemaFileName(type)), "utf8"));

      expect(published).toEqual(lifecycleEventJsonSchema(type));
    },
  );

  it("holds no schema for an event Sluice no longer sends", async () => {
    const files = await readdir(dir);

    expect(files.sort()).toEqual(detailTypes.map(schemaFileName).sort());
  });
});
