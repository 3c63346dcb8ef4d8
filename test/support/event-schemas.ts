import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { expect } from "vitest";
import { type LocalStack, PROJECT_ROOT } from "../../local/stack";
import { streamsTaken } from "./local-stack";

const SCHEMAS = path.join(PROJECT_ROOT, "events/schemas");

/**
 * Checks every event the local bus got against the JSON Schema files under events/schemas/
 * (read as published, with a JSON Schema validator: not the zod definitions they came from).
 * Answers the detail-types it checked.
 */
export async function expectEventsToMatchSchemaFiles(stack: LocalStack): Promise<Set<string>> {
  // Every event written so far is published first: the table's stream carries them to the bus.
  await streamsTaken(stack);
  const events = await stack.eventBridge.read();
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const byType = new Map<string, ReturnType<typeof ajv.compile>>();
  for (const file of await readdir(SCHEMAS)) {
    const schema = JSON.parse(await readFile(path.join(SCHEMAS, file), "utf8"));
    byType.set(schema.properties["detail-type"].const, ajv.compile(schema));
  }
  const checked = new Set<string>();
  for (const event of events.filter((e) => e.source === "sluice")) {
    const validate = byType.get(event["detail-type"]);
    expect(validate, `a schema file for ${event["detail-type"]}`).toBeDefined();
    const valid = validate?.(event);
    expect(valid, `${event["detail-type"]}: ${ajv.errorsText(validate?.errors)}`).toBe(true);
    checked.add(event["detail-type"]);
  }
  return checked;
}
