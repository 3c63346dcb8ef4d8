import { randomUUID } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { logger } from "../../http/logger";
import type { Operations } from "../aws-json-server";
import { DEFAULT_BUS, type PutEventsEntry } from "../eventbridge";
import {
  invalidFormat,
  invalidNextToken,
  invalidParameterCombination,
  invalidParameterValue,
  resourceNotFound,
  validationError,
} from "./errors";
import {
  DeleteAlarmsInput,
  DescribeAlarmHistoryInput,
  DescribeAlarmsInput,
  PutMetricAlarmInput,
  parseInput,
  SetAlarmStateInput,
} from "./inputs";
import {
  type AlarmState,
  STATE_CHANGE_DETAIL_TYPE,
  stateChangeDetail,
  stateOf,
} from "./state-change-event";
import { type HistoryRecord, StateFile, type StoredAlarm } from "./stored";

/** Puts events on the bus as an AWS service does (LocalEventBridge.put). */
export type Announce = (entries: PutEventsEntry[]) => Promise<unknown>;

/** MetricAlarm as DescribeAlarms answers it; timestamps are Dates, each protocol writes its own. */
export type MetricAlarm = Omit<
  StoredAlarm,
  | "metricId"
  | "AlarmConfigurationUpdatedTimestamp"
  | "StateUpdatedTimestamp"
  | "StateTransitionedTimestamp"
> & {
  AlarmConfigurationUpdatedTimestamp: Date;
  StateUpdatedTimestamp: Date;
  StateTransitionedTimestamp: Date;
};

const INITIAL_REASON = "Unchecked: Initial alarm creation";
const DEFAULT_MAX_RECORDS = 50;
/** CloudWatch keeps 30 days of history; here the latest items, so the file stays small. */
const MAX_HISTORY = 1000;

/**
 * A CloudWatch alarms stand-in: metric alarms that change state only by SetAlarmState (no
 * metrics are evaluated), their state-update history, and a "CloudWatch Alarm State Change"
 * event on the default bus for every change of state. Everything is kept in one file of the
 * state folder, replaced whole on each change.
 */
export class LocalCloudWatch {
  private writing: Promise<void> = Promise.resolve();
  private readonly announcing = new Set<Promise<void>>();

  private constructor(
    private readonly file: string,
    private readonly alarms: Map<string, StoredAlarm>,
    private readonly history: HistoryRecord[],
    private nextSeq: number,
    private announcedSeq: number,
    private readonly region: string,
    private readonly accountId: string,
    private readonly announce: Announce,
  ) {}

  static async open(
    dir: string,
    region: string,
    accountId: string,
    announce: Announce,
  ): Promise<LocalCloudWatch> {
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, "alarms.json");
    const text = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined;
      throw err;
    });
    const state = text
      ? StateFile.parse(JSON.parse(text))
      : { alarms: [], history: [], nextSeq: 1, announcedSeq: 0 };
    return new LocalCloudWatch(
      file,
      new Map(state.alarms.map((alarm) => [alarm.AlarmName, alarm])),
      state.history,
      state.nextSeq,
      state.announcedSeq,
      region,
      accountId,
      announce,
    );
  }

  /** The calls of the wire protocols; timestamps in their answers are Dates. */
  readonly operations: Operations = {
    PutMetricAlarm: async (input) => this.putMetricAlarm(parseInput(PutMetricAlarmInput, input)),
    DescribeAlarms: async (input) => this.describeAlarms(parseInput(DescribeAlarmsInput, input)),
    SetAlarmState: async (input) => this.setAlarmState(parseInput(SetAlarmStateInput, input)),
    DeleteAlarms: async (input) => this.deleteAlarms(parseInput(DeleteAlarmsInput, input)),
    DescribeAlarmHistory: async (input) =>
      this.describeAlarmHistory(parseInput(DescribeAlarmHistoryInput, input)),
  };

  /** Every alarm whose name starts with `prefix`, in name order. */
  list(prefix = ""): MetricAlarm[] {
    return this.sorted()
      .filter((alarm) => alarm.AlarmName.startsWith(prefix))
      .map(view);
  }

  get(name: string): MetricAlarm | undefined {
    const alarm = this.alarms.get(name);
    return alarm && view(alarm);
  }

  /**
   * SetAlarmState: a change of state is recorded in the history and announced on the default
   * bus before it returns; setting the state an alarm is in only updates its reason.
   */
  async setAlarmState(input: SetAlarmStateInput): Promise<Record<string, never>> {
    const alarm = this.alarms.get(input.AlarmName);
    if (!alarm) throw resourceNotFound(`Alarm ${input.AlarmName} not found`);
    const reasonData = parseReasonData(input.StateReasonData);
    const previous = stateOf(alarm);
    const now = new Date().toISOString();
    alarm.StateReason = input.StateReason;
    if (reasonData === undefined) delete alarm.StateReasonData;
    else alarm.StateReasonData = input.StateReasonData;
    alarm.StateUpdatedTimestamp = now;
    if (previous.value === input.StateValue) {
      await this.save();
      return {};
    }
    alarm.StateValue = input.StateValue;
    alarm.StateTransitionedTimestamp = now;
    const record = this.recordStateUpdate(alarm, previous);
    await this.save();
    await this.announceRecords([record]);
    return {};
  }

  /** Called once the bus listens: puts the events a previous process may not have put. */
  async announcePending(): Promise<void> {
    await this.announceRecords(this.history.filter((record) => record.seq > this.announcedSeq));
  }

  /** Waits for the events being put, then keeps how far they got. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.announcing]);
    await this.save();
  }

  private async putMetricAlarm(input: PutMetricAlarmInput): Promise<Record<string, never>> {
    if (input.Metrics?.length) {
      throw invalidParameterValue(
        "The local CloudWatch keeps single-metric alarms only: give MetricName, Namespace, Statistic and Period instead of Metrics.",
      );
    }
    const { MetricName, Namespace, Period, Threshold } = input;
    if (
      MetricName === undefined ||
      Namespace === undefined ||
      Period === undefined ||
      Threshold === undefined
    ) {
      const missing = Object.entries({ MetricName, Namespace, Period, Threshold })
        .filter(([, value]) => value === undefined)
        .map(([name]) => `The parameter ${name} is required for an alarm on a single metric.`);
      throw validationError(missing.join(" "));
    }
    if ((input.Statistic === undefined) === (input.ExtendedStatistic === undefined)) {
      throw invalidParameterCombination(
        "Exactly one of the parameters Statistic and ExtendedStatistic must be given.",
      );
    }
    const existing = this.alarms.get(input.AlarmName);
    const now = new Date().toISOString();
    const alarm: StoredAlarm = {
      AlarmName: input.AlarmName,
      AlarmArn: `arn:aws:cloudwatch:${this.region}:${this.accountId}:alarm:${input.AlarmName}`,
      ...optional("AlarmDescription", input.AlarmDescription),
      AlarmConfigurationUpdatedTimestamp: now,
      ActionsEnabled: input.ActionsEnabled ?? true,
      OKActions: input.OKActions ?? [],
      AlarmActions: input.AlarmActions ?? [],
      InsufficientDataActions: input.InsufficientDataActions ?? [],
      // Updating an alarm leaves its state as it was.
      StateValue: existing?.StateValue ?? "INSUFFICIENT_DATA",
      StateReason: existing?.StateReason ?? INITIAL_REASON,
      ...optional("StateReasonData", existing?.StateReasonData),
      StateUpdatedTimestamp: existing?.StateUpdatedTimestamp ?? now,
      StateTransitionedTimestamp: existing?.StateTransitionedTimestamp ?? now,
      MetricName,
      Namespace,
      ...optional("Statistic", input.Statistic),
      ...optional("ExtendedStatistic", input.ExtendedStatistic),
      Dimensions: input.Dimensions ?? [],
      Period,
      ...optional("Unit", input.Unit),
      EvaluationPeriods: input.EvaluationPeriods,
      ...optional("DatapointsToAlarm", input.DatapointsToAlarm),
      Threshold,
      ComparisonOperator: input.ComparisonOperator,
      ...optional("TreatMissingData", input.TreatMissingData),
      ...optional("EvaluateLowSampleCountPercentile", input.EvaluateLowSampleCountPercentile),
      metricId: existing?.metricId ?? randomUUID(),
    };
    this.alarms.set(alarm.AlarmName, alarm);
    await this.save();
    return {};
  }

  private describeAlarms(input: DescribeAlarmsInput) {
    const names = input.AlarmNames?.length ? new Set(input.AlarmNames) : undefined;
    const wanted = (input.AlarmTypes ?? ["MetricAlarm"]).includes("MetricAlarm");
    const matching = this.sorted().filter(
      (alarm) =>
        wanted &&
        (!names || names.has(alarm.AlarmName)) &&
        alarm.AlarmName.startsWith(input.AlarmNamePrefix ?? "") &&
        (!input.StateValue || alarm.StateValue === input.StateValue) &&
        (!input.ActionPrefix ||
          [...alarm.OKActions, ...alarm.AlarmActions, ...alarm.InsufficientDataActions].some(
            (action) => action.startsWith(input.ActionPrefix ?? ""),
          )),
    );
    const after = input.NextToken === undefined ? undefined : readToken(input.NextToken, "string");
    const rest = after === undefined ? matching : matching.filter((a) => a.AlarmName > after);
    const page = rest.slice(0, input.MaxRecords ?? DEFAULT_MAX_RECORDS);
    const last = page.at(-1);
    return {
      MetricAlarms: page.map(view),
      CompositeAlarms: [],
      ...(last && rest.length > page.length ? { NextToken: writeToken(last.AlarmName) } : {}),
    };
  }

  private async deleteAlarms(input: DeleteAlarmsInput): Promise<Record<string, never>> {
    const unknown = input.AlarmNames.filter((name) => !this.alarms.has(name));
    // As in CloudWatch, an error deletes none of them.
    if (unknown.length) throw resourceNotFound(`Alarms not found: ${unknown.join(", ")}`);
    for (const name of input.AlarmNames) this.alarms.delete(name);
    await this.save();
    return {};
  }

  private describeAlarmHistory(input: DescribeAlarmHistoryInput) {
    const ascending = input.ScanBy === "TimestampAscending";
    const from = input.NextToken === undefined ? undefined : readToken(input.NextToken, "number");
    const matching = this.history.filter(
      (record) =>
        (!input.AlarmName || record.AlarmName === input.AlarmName) &&
        (!input.AlarmTypes || input.AlarmTypes.includes(record.AlarmType)) &&
        (!input.HistoryItemType || record.HistoryItemType === input.HistoryItemType) &&
        (!input.StartDate || new Date(record.Timestamp) >= input.StartDate) &&
        (!input.EndDate || new Date(record.Timestamp) <= input.EndDate) &&
        (from === undefined || (ascending ? record.seq > from : record.seq < from)),
    );
    if (!ascending) matching.reverse();
    const page = matching.slice(0, input.MaxRecords ?? DEFAULT_MAX_RECORDS);
    const last = page.at(-1);
    return {
      AlarmHistoryItems: page.map(({ seq: _seq, event: _event, Timestamp, ...item }) => ({
        ...item,
        Timestamp: new Date(Timestamp),
      })),
      ...(last && matching.length > page.length ? { NextToken: writeToken(last.seq) } : {}),
    };
  }

  /** The history item of a change of state, with the event that announces it. */
  private recordStateUpdate(alarm: StoredAlarm, previous: AlarmState): HistoryRecord {
    const record: HistoryRecord = {
      seq: this.nextSeq++,
      AlarmName: alarm.AlarmName,
      AlarmType: "MetricAlarm",
      Timestamp: alarm.StateUpdatedTimestamp,
      HistoryItemType: "StateUpdate",
      HistorySummary: `Alarm updated from ${previous.value} to ${alarm.StateValue}`,
      HistoryData: JSON.stringify({
        version: "1.0",
        oldState: historyState(previous.value, previous.reason, previous.reasonData),
        newState: historyState(alarm.StateValue, alarm.StateReason, alarm.StateReasonData),
      }),
      event: { resources: [alarm.AlarmArn], detail: stateChangeDetail(alarm, previous) },
    };
    this.history.push(record);
    if (this.history.length > MAX_HISTORY)
      this.history.splice(0, this.history.length - MAX_HISTORY);
    return record;
  }

  private announceRecords(records: readonly HistoryRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const entries = records.map(
      (record): PutEventsEntry => ({
        Source: "aws.cloudwatch",
        DetailType: STATE_CHANGE_DETAIL_TYPE,
        EventBusName: DEFAULT_BUS,
        Resources: record.event.resources,
        Detail: JSON.stringify(record.event.detail),
      }),
    );
    const announced = this.announce(entries)
      .then(() => {
        this.announcedSeq = Math.max(this.announcedSeq, ...records.map((r) => r.seq));
      })
      .catch((error: unknown) =>
        logger.error("could not announce an alarm's state change", { error }),
      )
      .finally(() => this.announcing.delete(announced));
    this.announcing.add(announced);
    return announced;
  }

  private sorted(): StoredAlarm[] {
    return [...this.alarms.values()].sort((a, b) => (a.AlarmName < b.AlarmName ? -1 : 1));
  }

  /** Writes are chained and atomic (temp file, then rename), so a crash never leaves half a file. */
  private async save(): Promise<void> {
    const state: StateFile = {
      alarms: this.sorted(),
      history: this.history,
      nextSeq: this.nextSeq,
      announcedSeq: this.announcedSeq,
    };
    const text = `${JSON.stringify(state)}\n`;
    const temp = `${this.file}.tmp`;
    // A failed write must not stop later ones; its caller has already been told.
    this.writing = this.writing
      .catch(() => undefined)
      .then(async () => {
        await writeFile(temp, text);
        await rename(temp, this.file);
      });
    await this.writing;
  }
}

function view({ metricId: _metricId, ...alarm }: StoredAlarm): MetricAlarm {
  return {
    ...alarm,
    AlarmConfigurationUpdatedTimestamp: new Date(alarm.AlarmConfigurationUpdatedTimestamp),
    StateUpdatedTimestamp: new Date(alarm.StateUpdatedTimestamp),
    StateTransitionedTimestamp: new Date(alarm.StateTransitionedTimestamp),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function parseReasonData(data: string | undefined): unknown {
  if (data === undefined || data === "") return undefined;
  try {
    return JSON.parse(data);
  } catch {
    throw invalidFormat("StateReasonData must be a JSON document.");
  }
}

function historyState(value: string, reason: string, reasonData?: string) {
  const data = parseReasonData(reasonData);
  return {
    stateValue: value,
    stateReason: reason,
    ...(data === undefined ? {} : { stateReasonData: data }),
  };
}

/** Page tokens: where the next page starts, opaque to callers. */
function writeToken(after: string | number): string {
  return Buffer.from(JSON.stringify({ after })).toString("base64url");
}

function readToken<T extends "string" | "number">(
  token: string,
  kind: T,
): T extends "string" ? string : number {
  try {
    const { after } = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (typeof after === kind) return after;
  } catch {
    // Falls through to the refusal.
  }
  throw invalidNextToken();
}
