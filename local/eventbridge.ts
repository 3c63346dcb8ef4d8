import { randomUUID } from "node:crypto";
import { appendFile, readFile } from "node:fs/promises";
import { AwsServiceError, type Operations } from "./aws-json-server";

/** An event as EventBridge delivers it to rules and targets. */
export interface BusEvent {
  version: "0";
  id: string;
  "detail-type": string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
  "event-bus-name": string;
}

type Listener = (event: BusEvent) => void;

const MAX_ENTRIES = 10;
export const DEFAULT_BUS = "default";

/**
 * An EventBridge stand-in for PutEvents: each accepted event is appended to the event log
 * (one JSON object a line) and handed to live subscribers, as a rule would to its targets.
 */
export class LocalEventBridge {
  private readonly listeners = new Set<Listener>();
  private writing: Promise<void> = Promise.resolve();

  constructor(
    readonly logFile: string,
    private readonly busNames: ReadonlySet<string>,
    private readonly region: string,
    private readonly accountId: string,
  ) {}

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every event in the log, oldest first. */
  async read(): Promise<BusEvent[]> {
    await this.writing;
    const text = await readFile(this.logFile, "utf8").catch(() => "");
    return text
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as BusEvent);
  }

  readonly operations: Operations = {
    PutEvents: async (input) => {
      const entries = Array.isArray(input.Entries)
        ? (input.Entries as Record<string, unknown>[])
        : [];
      if (entries.length === 0 || entries.length > MAX_ENTRIES) {
        return this.invalid(`Entries must hold 1 to ${MAX_ENTRIES} events`);
      }
      return this.put(entries);
    },
  };

  /**
   * Puts PutEvents entries on their buses, as the API does; AWS services' own events (a Step
   * Functions status change, say) come in this way too.
   */
  async put(entries: readonly Record<string, unknown>[]) {
    const accepted: BusEvent[] = [];
    const results = entries.map((entry) => {
      const busName = String(entry.EventBusName ?? DEFAULT_BUS);
      if (!this.busNames.has(busName)) {
        return { ErrorCode: "NotFound", ErrorMessage: `Event bus ${busName} does not exist.` };
      }
      let detail: unknown;
      try {
        detail = JSON.parse(String(entry.Detail ?? ""));
      } catch {
        return { ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed." };
      }
      if (!entry.Source || !entry.DetailType) {
        return {
          ErrorCode: "InvalidArgument",
          ErrorMessage: "Source and DetailType are required.",
        };
      }
      const event: BusEvent = {
        version: "0",
        id: randomUUID(),
        "detail-type": String(entry.DetailType),
        source: String(entry.Source),
        account: this.accountId,
        time: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
        region: this.region,
        resources: Array.isArray(entry.Resources) ? entry.Resources.map(String) : [],
        detail,
        "event-bus-name": busName,
      };
      accepted.push(event);
      return { EventId: event.id };
    });
    // The log is Sluice's own bus; the default bus carries AWS services' events to rules only.
    const lines = accepted
      .filter((e) => e["event-bus-name"] !== DEFAULT_BUS)
      .map((e) => `${JSON.stringify(e)}\n`)
      .join("");
    this.writing = this.writing.then(() => (lines ? appendFile(this.logFile, lines) : undefined));
    await this.writing;
    for (const event of accepted) for (const listener of this.listeners) listener(event);
    return {
      FailedEntryCount: results.filter((r) => "ErrorCode" in r).length,
      Entries: results,
    };
  }

  private invalid(message: string): never {
    throw new AwsServiceError("ValidationException", message);
  }
}
