import type { StoredAlarm } from "./stored";

export interface AlarmState {
  value: string;
  reason: string;
  reasonData?: string;
  /** As CloudWatch writes it in events: `2019-10-02T17:04:40.989+0000`. */
  timestamp: string;
}

export const STATE_CHANGE_DETAIL_TYPE = "CloudWatch Alarm State Change";

export function eventTimestamp(iso: string): string {
  return iso.replace(/Z$/, "+0000");
}

export function stateOf(alarm: StoredAlarm): AlarmState {
  return {
    value: alarm.StateValue,
    reason: alarm.StateReason,
    ...(alarm.StateReasonData !== undefined ? { reasonData: alarm.StateReasonData } : {}),
    timestamp: eventTimestamp(alarm.StateUpdatedTimestamp),
  };
}

/**
 * The detail of a "CloudWatch Alarm State Change" event for a single-metric alarm, as CloudWatch
 * puts it on the default bus: the new and previous states and the alarm's metric.
 */
export function stateChangeDetail(alarm: StoredAlarm, previousState: AlarmState) {
  return {
    alarmName: alarm.AlarmName,
    state: stateOf(alarm),
    previousState,
    configuration: {
      ...(alarm.AlarmDescription !== undefined ? { description: alarm.AlarmDescription } : {}),
      metrics: [
        {
          id: alarm.metricId,
          metricStat: {
            metric: {
              dimensions: Object.fromEntries(alarm.Dimensions.map((d) => [d.Name, d.Value])),
              name: alarm.MetricName,
              namespace: alarm.Namespace,
            },
            period: alarm.Period,
            stat: alarm.Statistic ?? alarm.ExtendedStatistic,
          },
          returnData: true,
        },
      ],
    },
  };
}
