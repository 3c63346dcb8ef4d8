import * as z from "../../domain/zod";
import { STATE_VALUES } from "./inputs";

/** An alarm as the state folder keeps it: MetricAlarm's fields, timestamps as ISO strings. */
export const StoredAlarm = z.object({
  AlarmName: z.string(),
  AlarmArn: z.string(),
  AlarmDescription: z.optional(z.string()),
  AlarmConfigurationUpdatedTimestamp: z.string(),
  ActionsEnabled: z.boolean(),
  OKActions: z.array(z.string()),
  AlarmActions: z.array(z.string()),
  InsufficientDataActions: z.array(z.string()),
  StateValue: z.enum(STATE_VALUES),
  StateReason: z.string(),
  StateReasonData: z.optional(z.string()),
  StateUpdatedTimestamp: z.string(),
  StateTransitionedTimestamp: z.string(),
  MetricName: z.string(),
  Namespace: z.string(),
  Statistic: z.optional(z.string()),
  ExtendedStatistic: z.optional(z.string()),
  Dimensions: z.array(z.object({ Name: z.string(), Value: z.string() })),
  Period: z.number(),
  Unit: z.optional(z.string()),
  EvaluationPeriods: z.number(),
  DatapointsToAlarm: z.optional(z.number()),
  Threshold: z.number(),
  ComparisonOperator: z.string(),
  TreatMissingData: z.optional(z.string()),
  EvaluateLowSampleCountPercentile: z.optional(z.string()),
  /** The id of its one metric in the state-change events' `configuration.metrics`. */
  metricId: z.string(),
});
export type StoredAlarm = z.infer<typeof StoredAlarm>;

/** One DescribeAlarmHistory item, with the state-change event it was announced with. */
export const HistoryRecord = z.object({
  seq: z.number(),
  AlarmName: z.string(),
  AlarmType: z.literal("MetricAlarm"),
  Timestamp: z.string(),
  HistoryItemType: z.literal("StateUpdate"),
  HistorySummary: z.string(),
  HistoryData: z.string(),
  event: z.object({ resources: z.array(z.string()), detail: z.unknown() }),
});
export type HistoryRecord = z.infer<typeof HistoryRecord>;

export const StateFile = z.object({
  alarms: z.array(StoredAlarm),
  history: z.array(HistoryRecord),
  nextSeq: z.number(),
  /** The last history record whose event reached the bus; those after it are put at start. */
  announcedSeq: z.number(),
});
export type StateFile = z.infer<typeof StateFile>;
