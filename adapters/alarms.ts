import { type CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import type { AlarmState, Alarms, AlarmWatch, AlarmWatches } from "../domain/ports";
import { cloudWatch } from "./clients/cloudwatch";
import { dynamoDocument } from "./clients/dynamodb";
import { stackConfig } from "./config";

/** The CloudWatch alarms a wave watches. */
export class CloudWatchAlarms implements Alarms {
  constructor(private readonly client: CloudWatchClient) {}

  async states(names: readonly string[]): Promise<Map<string, AlarmState>> {
    const states = new Map<string, AlarmState>();
    // DescribeAlarms takes at most 100 names a call; a wave has at most 10.
    if (names.length === 0) return states;
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        new DescribeAlarmsCommand({
          AlarmNames: [...names],
          AlarmTypes: ["MetricAlarm", "CompositeAlarm"],
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      for (const alarm of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
        if (alarm.AlarmName && alarm.StateValue) states.set(alarm.AlarmName, alarm.StateValue);
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return states;
  }
}

/** Weeks after it was made, a watch may go (the table's TTL removes it). */
const RETENTION_SECONDS = 30 * 24 * 3600;

/**
 * Which steps an alarm's state change concerns, kept under the alarm's name: CloudWatch's
 * "Alarm State Change" events name only the alarm.
 */
export class DynamoAlarmWatches implements AlarmWatches {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async put(watches: readonly AlarmWatch[]): Promise<void> {
    await Promise.all(
      watches.map((watch) =>
        this.doc.send(new PutCommand({ TableName: this.table, Item: watchItem(watch) })),
      ),
    );
  }

  async of(alarm: string): Promise<AlarmWatch[]> {
    const { Items = [] } = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": `ALARM#${alarm}` },
        ConsistentRead: true,
      }),
    );
    return Items.map((i) => ({
      alarm,
      kind: i.kind as AlarmWatch["kind"],
      runId: String(i.runId),
      index: Number(i.index),
      attempt: Number(i.attempt),
      token: String(i.token),
    }));
  }

  async remove(watch: AlarmWatch): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: keyOf(watch) }));
  }
}

/** A watch's item, as put alone or in a run's transaction (RunTransition.watches). */
export function watchItem(watch: AlarmWatch) {
  return {
    ...keyOf(watch),
    ...watch,
    expiresAt: Math.floor(Date.now() / 1000) + RETENTION_SECONDS,
  };
}

function keyOf(watch: AlarmWatch) {
  return {
    pk: `ALARM#${watch.alarm}`,
    sk: `WATCH#${watch.runId}#${watch.index}#${watch.attempt}#${watch.kind}`,
  };
}

export function alarms(): CloudWatchAlarms {
  return new CloudWatchAlarms(cloudWatch());
}

export function alarmWatches(): DynamoAlarmWatches {
  return new DynamoAlarmWatches(dynamoDocument(), stackConfig().table);
}
