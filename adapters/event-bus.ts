import { type EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { EVENT_SOURCE, type LifecycleEvent } from "../domain/lifecycle-events";
import { eventBridge } from "./clients/eventbridge";
import { stackConfig } from "./config";

/** PutEvents takes at most this many entries a call. */
const MAX_ENTRIES = 10;

/** Puts Sluice's lifecycle events on its EventBridge bus. */
export class EventBus {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  /** Puts every event, or throws naming those the bus refused. */
  async publish(events: readonly LifecycleEvent[]): Promise<void> {
    const refused = await this.put(events);
    if (refused.length > 0) {
      throw new Error(
        `EventBridge refused ${refused.length} event(s): ${refused.map((r) => r.reason).join("; ")}`,
      );
    }
  }

  /**
   * Puts the events in order, ten a call, and answers which were refused (by their index), so a
   * caller can try those again; an error of the call itself is thrown.
   */
  async put(events: readonly LifecycleEvent[]): Promise<{ index: number; reason: string }[]> {
    const refused: { index: number; reason: string }[] = [];
    for (let start = 0; start < events.length; start += MAX_ENTRIES) {
      const batch = events.slice(start, start + MAX_ENTRIES);
      const { FailedEntryCount = 0, Entries = [] } = await this.client.send(
        new PutEventsCommand({
          Entries: batch.map((e) => ({
            EventBusName: this.busName,
            Source: EVENT_SOURCE,
            DetailType: e.detailType,
            Detail: JSON.stringify(e.detail),
          })),
        }),
      );
      if (FailedEntryCount === 0) continue;
      Entries.forEach((entry, i) => {
        if (entry.ErrorCode) {
          refused.push({ index: start + i, reason: `${entry.ErrorCode}: ${entry.ErrorMessage}` });
        }
      });
    }
    return refused;
  }
}

/** The stack's event bus, over the container's client. */
export function eventBus(): EventBus {
  return new EventBus(eventBridge(), stackConfig().eventBus);
}
