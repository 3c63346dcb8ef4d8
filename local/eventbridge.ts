import { randomUUID } from "node:crypto";
import { type FileHandle, open, readFile } from "node:fs/promises";
import { z } from "zod";
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
/** Sources AWS keeps for its own services' events: nobody may put them through the API. */
const AWS_SOURCE_PREFIX = "aws.";

const EntrySchema = z.looseObject({
  Source: z.string().optional(),
  DetailType: z.string().optional(),
  Detail: z.string().optional(),
  EventBusName: z.string().optional(),
  Resources: z.array(z.string()).optional(),
});
/** One PutEvents entry, as the SDK sends it. */
export type PutEventsEntry = z.infer<typeof EntrySchema>;

const PutEventsSchema = z.looseObject({
  Entries: z
    .array(EntrySchema)
    .min(1, `Entries must hold 1 to ${MAX_ENTRIES} events`)
    .max(MAX_ENTRIES, `Entries must hold 1 to ${MAX_ENTRIES} events`),
});

/**
 * An EventBridge stand-in for PutEvents: each accepted event is appended to the event log
 * (one JSON object a line) and handed to live subscribers, as a rule would to its targets.
 */
export class LocalEventBridge {
  private readonly listeners = new Set<Listener>();
  private writing: Promise<void> = Promise.resolve();
  /** Kept open from the first write to close(): an open and a close a call cost more than the write. */
  private log: Promise<FileHandle> | undefined;

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

  /** Closes the event log once what is being written is; a later event opens it again. */
  async close(): Promise<void> {
    await this.writing.catch(() => {});
    const log = this.log;
    this.log = undefined;
    await (await log)?.close();
  }

  /**
   * Every event in the log, oldest first. Read in turn with the writes, so that none is
   * appended while the file is read and no line is read half-written.
   */
  async read(): Promise<BusEvent[]> {
    const reading = this.writing
      .catch(() => {})
      .then(() => readFile(this.logFile, "utf8").catch(() => ""));
    this.writing = reading.then(() => {});
    const text = await reading;
    return text
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as BusEvent);
  }

  readonly operations: Operations = {
    PutEvents: async (input) => {
      const parsed = PutEventsSchema.safeParse(input);
      if (!parsed.success) {
        const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
        throw new AwsServiceError("ValidationException", problems.join("; "));
      }
      return this.accept(parsed.data.Entries, { awsSources: false });
    },
  };

  /**
   * Puts events on their buses as an AWS service puts its own: the stand-ins' announcements (a
   * Step Functions status change, say) come in this way, and only they may use an `aws.` source.
   */
  put(entries: readonly PutEventsEntry[]) {
    return this.accept(entries, { awsSources: true });
  }

  private async accept(
    entries: readonly PutEventsEntry[],
    { awsSources }: { awsSources: boolean },
  ) {
    const accepted: BusEvent[] = [];
    const results = entries.map((entry) => {
      if (!awsSources && entry.Source?.startsWith(AWS_SOURCE_PREFIX)) {
        return {
          ErrorCode: "NotAuthorizedForSourceException",
          ErrorMessage: "Not authorized for the source.",
        };
      }
      const busName = entry.EventBusName ?? DEFAULT_BUS;
      if (!this.busNames.has(busName)) {
        return { ErrorCode: "NotFound", ErrorMessage: `Event bus ${busName} does not exist.` };
      }
      let detail: unknown;
      try {
        detail = JSON.parse(entry.Detail ?? "");
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
        "detail-type": entry.DetailType,
        source: entry.Source,
        account: this.accountId,
        time: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
        region: this.region,
        resources: entry.Resources ?? [],
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
    // Only what is logged waits for the log: an AWS service's event on the default bus (a
    // deployment's end, say) goes to its rules at once, as EventBridge keeps no order anyway.
    if (lines) {
      // A failed write fails its own call only, and the next one opens the log anew.
      this.writing = this.writing
        .catch(() => {})
        .then(async () => {
          this.log ??= open(this.logFile, "a");
          try {
            await (await this.log).appendFile(lines);
          } catch (err) {
            this.log = undefined;
            throw err;
          }
        });
      await this.writing;
    }
    for (const event of accepted) for (const listener of this.listeners) listener(event);
    return {
      FailedEntryCount: results.filter((r) => "ErrorCode" in r).length,
      Entries: results,
    };
  }
}
