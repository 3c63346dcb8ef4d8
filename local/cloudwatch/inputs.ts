import * as z from "../../domain/zod";
import { validationError } from "./errors";

// In the order CloudWatch lists them in its validation messages.
export const STATE_VALUES = ["INSUFFICIENT_DATA", "ALARM", "OK"] as const;
export type StateValue = (typeof STATE_VALUES)[number];

const COMPARISON_OPERATORS = [
  "GreaterThanOrEqualToThreshold",
  "GreaterThanThreshold",
  "LessThanThreshold",
  "LessThanOrEqualToThreshold",
  "LessThanLowerOrGreaterThanUpperThreshold",
  "LessThanLowerThreshold",
  "GreaterThanUpperThreshold",
] as const;
const STATISTICS = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"] as const;
const ALARM_TYPES = ["CompositeAlarm", "MetricAlarm"] as const;
const HISTORY_ITEM_TYPES = [
  "ConfigurationUpdate",
  "StateUpdate",
  "Action",
  "AlarmContributorStateUpdate",
  "AlarmContributorAction",
] as const;

const text = (min: number, max: number) => z.string().check(z.minLength(min), z.maxLength(max));
const AlarmName = text(1, 255);
const Actions = z.optional(z.array(text(1, 1024)).check(z.maxLength(5)));
const Count = z.number().check(z.int(), z.minimum(1));
const MaxRecords = z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(100)));
const NextToken = z.optional(z.string());
/** awsJson1_0 sends epoch seconds, the query protocol an ISO 8601 string. */
const Timestamp = z.optional(
  z.pipe(
    z.union([z.number(), z.iso.datetime({ offset: true })]),
    z.transform((value) => new Date(typeof value === "number" ? value * 1000 : value)),
  ),
);

export const PutMetricAlarmInput = z.looseObject({
  AlarmName,
  AlarmDescription: z.optional(text(0, 1024)),
  ActionsEnabled: z.optional(z.boolean()),
  OKActions: Actions,
  AlarmActions: Actions,
  InsufficientDataActions: Actions,
  MetricName: z.optional(text(1, 255)),
  Namespace: z.optional(text(1, 255)),
  Statistic: z.optional(z.enum(STATISTICS)),
  ExtendedStatistic: z.optional(z.string()),
  Dimensions: z.optional(
    z.array(z.object({ Name: text(1, 255), Value: text(1, 1024) })).check(z.maxLength(30)),
  ),
  Period: z.optional(Count),
  Unit: z.optional(z.string()),
  EvaluationPeriods: Count,
  DatapointsToAlarm: z.optional(Count),
  Threshold: z.optional(z.number()),
  ComparisonOperator: z.enum(COMPARISON_OPERATORS),
  TreatMissingData: z.optional(text(1, 255)),
  EvaluateLowSampleCountPercentile: z.optional(text(1, 255)),
  Metrics: z.optional(z.array(z.unknown())),
});
export type PutMetricAlarmInput = z.infer<typeof PutMetricAlarmInput>;

export const DescribeAlarmsInput = z.looseObject({
  AlarmNames: z.optional(z.array(AlarmName).check(z.maxLength(100))),
  AlarmNamePrefix: z.optional(text(1, 255)),
  AlarmTypes: z.optional(z.array(z.enum(ALARM_TYPES))),
  StateValue: z.optional(z.enum(STATE_VALUES)),
  ActionPrefix: z.optional(text(1, 1024)),
  MaxRecords,
  NextToken,
});
export type DescribeAlarmsInput = z.infer<typeof DescribeAlarmsInput>;

export const SetAlarmStateInput = z.looseObject({
  AlarmName,
  StateValue: z.enum(STATE_VALUES),
  StateReason: text(0, 1023),
  StateReasonData: z.optional(text(0, 4000)),
});
export type SetAlarmStateInput = z.infer<typeof SetAlarmStateInput>;

export const DeleteAlarmsInput = z.looseObject({
  AlarmNames: z.array(AlarmName).check(z.maxLength(100)),
});
export type DeleteAlarmsInput = z.infer<typeof DeleteAlarmsInput>;

export const DescribeAlarmHistoryInput = z.looseObject({
  AlarmName: z.optional(AlarmName),
  AlarmTypes: z.optional(z.array(z.enum(ALARM_TYPES))),
  HistoryItemType: z.optional(z.enum(HISTORY_ITEM_TYPES)),
  StartDate: Timestamp,
  EndDate: Timestamp,
  MaxRecords,
  NextToken,
  ScanBy: z.optional(z.enum(["TimestampDescending", "TimestampAscending"])),
});
export type DescribeAlarmHistoryInput = z.infer<typeof DescribeAlarmHistoryInput>;

/**
 * Parses a call's input, or fails as CloudWatch's front door does: a ValidationError that
 * names each member by its camelCase path ("1 validation error detected: Value 'X' at
 * 'stateValue' failed to satisfy constraint: ...").
 */
export function parseInput<T extends z.ZodMiniType>(
  schema: T,
  input: Record<string, unknown>,
): z.infer<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const at = issue.path
      .map((part) =>
        typeof part === "number"
          ? `member.${part + 1}`
          : String(part).replace(/^./, (c) => c.toLowerCase()),
      )
      .join(".");
    const value = issue.path.reduce<unknown>(
      (node, part) => (node as Record<PropertyKey, unknown> | undefined)?.[part],
      input,
    );
    if (value === undefined) {
      return `Value null at '${at}' failed to satisfy constraint: Member must not be null`;
    }
    const shown = typeof value === "string" ? `'${value}'` : JSON.stringify(value);
    const constraint =
      issue.code === "invalid_value"
        ? `Member must satisfy enum value set: [${issue.values.join(", ")}]`
        : issue.message;
    return `Value ${shown} at '${at}' failed to satisfy constraint: ${constraint}`;
  });
  const count =
    problems.length === 1 ? "1 validation error" : `${problems.length} validation errors`;
  throw validationError(`${count} detected: ${problems.join("; ")}`);
}
