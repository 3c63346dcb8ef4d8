import { EVENT_ID_FIELD, type LifecycleEvent } from "../domain/lifecycle-events";
import * as z from "../domain/zod";

/** An outbox item of the table, as its stream record's new image holds it. */
const OutboxItemSchema = z.object({
  sk: z.string().check(z.startsWith("EVENT#")),
  [EVENT_ID_FIELD]: z.string(),
  detailType: z.string(),
  detail: z.record(z.string(), z.unknown()),
});

export interface OutboxRecord {
  /** The stream record's sequence number, which a partial batch failure names. */
  sequenceNumber: string;
  item: Record<string, unknown>;
}

export interface EventSink {
  put(events: readonly LifecycleEvent[]): Promise<{ index: number; reason: string }[]>;
}

/**
 * Publishes the outbox items a batch of stream records brought, in order. Answers the sequence
 * numbers to deliver again: from the first event the bus refused on, so the stream retries those
 * and keeps their order. Each event carries its eventId on every delivery, for consumers to
 * de-duplicate on.
 */
export async function publishOutbox(
  bus: EventSink,
  records: readonly OutboxRecord[],
): Promise<string[]> {
  const outbox = records.flatMap((r) => {
    const parsed = OutboxItemSchema.safeParse(r.item);
    return parsed.success ? [{ sequenceNumber: r.sequenceNumber, item: parsed.data }] : [];
  });
  if (outbox.length === 0) return [];
  const events = outbox.map(
    ({ item }) => ({ detailType: item.detailType, detail: item.detail }) as LifecycleEvent,
  );
  const refused = await bus.put(events);
  const first = Math.min(...refused.map((r) => r.index));
  return Number.isFinite(first) ? outbox.slice(first).map((o) => o.sequenceNumber) : [];
}
