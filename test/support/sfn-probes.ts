import { existsSync, readFileSync } from "node:fs";
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  type SFNClient,
} from "@aws-sdk/client-sfn";
import { waitFor } from "./local-stack";

// What the Step Functions tests look at: executions, histories, invocations and processes.

/** The invocations the fixture functions noted, oldest first. */
export function invocations(log: string): { fn: string; event: Record<string, unknown> }[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { fn: string; event: Record<string, unknown> });
}

/** DescribeExecution once the execution is no longer RUNNING. */
export async function endOf(sfn: SFNClient, executionArn: string, timeoutMs = 10_000) {
  return waitFor(
    async () => {
      const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return d.status === "RUNNING" ? undefined : d;
    },
    { what: `${executionArn} to end`, timeoutMs },
  );
}

/** Every history event, read page by page as the AWS CLI does. */
export async function historyOf(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 20, nextToken }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** The task tokens the `record` function was handed, oldest first, once there are `count`. */
export async function tokensHanded(log: string, count = 1): Promise<string[]> {
  return waitFor(
    async () => {
      const tokens = invocations(log).flatMap((i) =>
        typeof i.event.taskToken === "string" ? [i.event.taskToken] : [],
      );
      return tokens.length >= count ? tokens : undefined;
    },
    { what: `${count} task token(s) to be handed out` },
  );
}

/** Whether a process runs (a zombie, killed but not yet reaped, does not). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    return true;
  }
}

/** A buildspec whose build starts a background `sleep`, notes its pid, and waits for it. */
export function sleepingBuildspec(pidFile: string): string {
  return [
    "version: 0.2",
    "phases:",
    "  build:",
    "    commands:",
    `      - sleep 300 & echo $! > ${pidFile}; wait`,
  ].join("\n");
}

export async function pidIn(file: string): Promise<number> {
  return waitFor(
    async () => {
      const text = existsSync(file) ? readFileSync(file, "utf8").trim() : "";
      return text ? Number(text) : undefined;
    },
    { what: `a pid in ${file}` },
  );
}
