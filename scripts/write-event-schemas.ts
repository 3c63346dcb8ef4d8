import { writeFile } from "node:fs/promises";
import path from "node:path";
import { lifecycleEventJsonSchema, schemaFileName } from "../domain/event-schemas";
import { LIFECYCLE_EVENTS, type LifecycleDetailType } from "../domain/lifecycle-events";

/** `npm run schemas`: rewrites events/schemas/ from the lifecycle event definitions. */
const dir = path.resolve(import.meta.dirname, "../events/schemas");
for (const detailType of Object.keys(LIFECYCLE_EVENTS) as LifecycleDetailType[]) {
  const file = path.join(dir, schemaFileName(detailType));
  await writeFile(file, `${JSON.stringify(lifecycleEventJsonSchema(detailType), null, 2)}\n`);
  process.stdout.write(`${path.relative(process.cwd(), file)}\n`);
}
