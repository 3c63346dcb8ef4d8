import {
  CloudWatchClient,
  type MetricAlarm,
  paginateDescribeAlarms,
  ResourceNotFound,
  SetAlarmStateCommand,
  type StateValue,
} from "@aws-sdk/client-cloudwatch";
import { CliError } from "./errors";
import { formatTable } from "./format";
import { LOCAL_CREDENTIALS } from "./settings";

export const ALARM_STATES = ["OK", "ALARM", "INSUFFICIENT_DATA"] as const;

/** The SDK's client, at `endpoint` (AWS's own when absent), signed as the S3 uploads are. */
export function cloudWatchClient(
  endpoint: string | undefined,
  env: NodeJS.ProcessEnv,
): CloudWatchClient {
  return new CloudWatchClient({
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1",
    ...(endpoint ? { endpoint } : {}),
    ...(endpoint && !env.AWS_ACCESS_KEY_ID ? { credentials: LOCAL_CREDENTIALS } : {}),
  });
}

/**
 * SetAlarmState, as `aws cloudwatch set-alarm-state` does it: in AWS the alarm's next
 * evaluation sets its real state again; the local stand-in keeps the state until told otherwise.
 */
export async function setAlarm(
  client: CloudWatchClient,
  name: string,
  state: StateValue,
  reason: string,
): Promise<string> {
  try {
    await client.send(
      new SetAlarmStateCommand({ AlarmName: name, StateValue: state, StateReason: reason }),
    );
  } catch (err) {
    if (err instanceof ResourceNotFound) {
      throw new CliError(`there is no alarm named "${name}"`, { cause: err });
    }
    throw err;
  }
  return `alarm ${name} ${state}\n`;
}

/** One line an alarm, in name order: name, state, when it was set, and why. */
export async function listAlarms(client: CloudWatchClient, prefix?: string): Promise<string> {
  const alarms: MetricAlarm[] = [];
  for await (const page of paginateDescribeAlarms(
    { client },
    prefix ? { AlarmNamePrefix: prefix } : {},
  )) {
    alarms.push(...(page.MetricAlarms ?? []));
  }
  if (alarms.length === 0) return prefix ? `no alarms named ${prefix}…\n` : "no alarms\n";
  return formatTable(
    alarms.map((alarm) => [
      alarm.AlarmName ?? "",
      alarm.StateValue ?? "",
      alarm.StateUpdatedTimestamp?.toISOString() ?? "",
      alarm.StateReason ?? "",
    ]),
  );
}
