import {
  EVENT_ID_FIELD,
  EVENT_SEQUENCE_FIELD,
  EVENT_SOURCE,
  LIFECYCLE_EVENTS,
  type LifecycleDetailType,
} from "./lifecycle-events";
import * as z from "./zod";

/** Events of no run, so without a run's `sequence`. */
const APP_EVENTS: ReadonlySet<LifecycleDetailType> = new Set(["Bundle Rejected"]);

/** File name of a detail-type's schema under events/schemas/: "Run Started" → run-started.json. */
export function schemaFileName(detailType: LifecycleDetailType): string {
  return `${detailType.toLowerCase().replaceAll(" ", "-")}.json`;
}

/**
 * The JSON Schema of one lifecycle event as EventBridge delivers it, generated from the zod
 * schema its `LifecycleEvent` type is inferred from, so the published schemas follow what the
 * publisher is typed to send. Nothing checks an event against them when it is published.
 */
export function lifecycleEventJsonSchema(detailType: LifecycleDetailType): Record<string, unknown> {
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: `Sluice lifecycle event: ${detailType}`,
    type: "object",
    required: ["source", "detail-type", "detail"],
    properties: {
      source: { const: EVENT_SOURCE },
      "detail-type": { const: detailType },
      detail: z.toJSONSchema(
        z.extend(LIFECYCLE_EVENTS[detailType], {
          [EVENT_ID_FIELD]: z.string(),
          ...(APP_EVENTS.has(detailType)
            ? {}
            : { [EVENT_SEQUENCE_FIELD]: z.number().check(z.int(), z.positive()) }),
        }),
        { target: "draft-2020-12" },
      ),
    },
  };
}
