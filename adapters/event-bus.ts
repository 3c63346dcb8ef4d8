import { type EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { EVENT_SOURCE, type LifecycleEvent } from "../domain/lifecycle-events";

/** Puts Sluice's lifecycle events on its EventBridge bus. */
export class EventBus {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(events: readonly LifecycleEvent[]): Promise<void> {
    if (events.length === 0) return;
    const { FailedEntryCount = 0, Entries = [] } = await this.client.send(
      new PutEventsCommand({
        Entries: events.map((e) => ({
          EventBusName: this.busName,
          Source: EVENT_SOURCE,
          DetailType: e.detailType,
          Detail: JSON.stringify(e.detail),
        })),
      }),
    );
    if (FailedEntryCount > 0) {
      const failures = Entries.filter((e) => e.ErrorCode).map(
        (e) => `${e.ErrorCode}: ${e.ErrorMessage}`,
      );
      throw new Error(`EventBridge refused ${FailedEntryCount} event(s): ${failures.join("; ")}`);
    }
  }
}
