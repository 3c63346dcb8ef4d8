import type { HistoryEvent, NewEvent } from "./history";
import type { ExecutionStatus, JournalRecord, Position } from "./store";
import type { PendingTask } from "./tasks";

// An execution's ends and what a restart reads back from its journal.

/** What a restart needs to continue an execution, read back from its journal. */
export interface Recovered {
  position?: Position;
  token?: PendingTask;
  /** The end it reached before its summary was written. */
  ended?: HistoryEvent;
  problem?: string;
}

/** How an execution ended, as its summary keeps it. */
export interface End {
  status: Exclude<ExecutionStatus, "RUNNING">;
  output?: string;
  error?: string | undefined;
  cause?: string | undefined;
  failedAt?: Position | undefined;
}

/** Where a running execution was, from its journal. */
export function replay(
  executionArn: string,
  journal: JournalRecord[],
): Recovered & { lastEventId: number } {
  let position: Position | undefined;
  let ended: HistoryEvent | undefined;
  let lastEventId = 0;
  const tokens = new Map<string, PendingTask>();
  for (const record of journal) {
    const task = "token" in record ? tokens.get(record.token) : undefined;
    switch (record.k) {
      case "event":
        lastEventId = record.event.id;
        if (record.event.type === "ExecutionRedriven") {
          position = undefined;
          ended = undefined;
        } else if (TERMINAL_EVENTS.has(record.event.type)) {
          ended = record.event;
        }
        break;
      case "enter":
        position = { state: record.state, input: record.input, at: record.at };
        tokens.clear();
        break;
      case "token":
        tokens.set(record.token, {
          token: record.token,
          executionArn,
          state: record.state,
          submitted: false,
          lastBeat: record.at,
          ...(record.timeoutAt !== undefined ? { timeoutAt: record.timeoutAt } : {}),
          ...(record.heartbeatMs !== undefined ? { heartbeatMs: record.heartbeatMs } : {}),
        });
        break;
      case "token-submitted":
        if (task) task.submitted = true;
        break;
      case "heartbeat":
        if (task) task.lastBeat = record.at;
        break;
      case "token-result":
        if (task) task.result = record.result;
        break;
      case "token-closed":
        tokens.delete(record.token);
        break;
    }
  }
  // Token waits inside a Map or Parallel are not kept: those states start again as a whole.
  const token = position
    ? [...tokens.values()].filter((t) => t.state === position?.state).at(-1)
    : undefined;
  return {
    lastEventId,
    ...(position ? { position } : {}),
    ...(token ? { token } : {}),
    ...(ended ? { ended } : {}),
  };
}

const TERMINAL_EVENTS = new Map<string, End["status"]>([
  ["ExecutionSucceeded", "SUCCEEDED"],
  ["ExecutionFailed", "FAILED"],
  ["ExecutionAborted", "ABORTED"],
  ["ExecutionTimedOut", "TIMED_OUT"],
]);

export function terminalEvent(end: End): NewEvent {
  switch (end.status) {
    case "SUCCEEDED":
      return {
        type: "ExecutionSucceeded",
        details: { output: end.output ?? "null", outputDetails: { truncated: false } },
      };
    case "FAILED":
      return { type: "ExecutionFailed", details: { error: end.error, cause: end.cause } };
    case "ABORTED":
      return { type: "ExecutionAborted", details: { error: end.error, cause: end.cause } };
    case "TIMED_OUT":
      return { type: "ExecutionTimedOut", details: { error: end.error, cause: end.cause } };
  }
}

/** The end an execution's terminal history event records. */
export function endOf(event: HistoryEvent, position: Position | undefined): End {
  const status = TERMINAL_EVENTS.get(event.type) ?? "FAILED";
  const key = `${event.type[0]?.toLowerCase()}${event.type.slice(1)}EventDetails`;
  const details = (event[key] ?? {}) as { output?: string; error?: string; cause?: string };
  return status === "SUCCEEDED"
    ? { status, output: details.output ?? "null" }
    : { status, error: details.error, cause: details.cause, failedAt: position };
}
