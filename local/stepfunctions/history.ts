/** A history event as GetExecutionHistory returns it (timestamp in epoch seconds). */
export interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

/** An event before it is numbered: its type and its one `…EventDetails` field. */
export interface NewEvent {
  type: string;
  details?: Record<string, unknown>;
  /** The name of the details field, when it is not the type's camelCase + `EventDetails`. */
  detailsKey?: string;
}

export function numbered(event: NewEvent, id: number, timestamp: number): HistoryEvent {
  const key =
    event.detailsKey ?? `${event.type[0]?.toLowerCase() ?? ""}${event.type.slice(1)}EventDetails`;
  return {
    id,
    previousEventId: id - 1,
    timestamp,
    type: event.type,
    ...(event.details ? { [key]: event.details } : {}),
  };
}

const STATE_TYPES_WITH_EXIT = new Set([
  "Task",
  "Wait",
  "Choice",
  "Pass",
  "Succeed",
  "Map",
  "Parallel",
]);

export function stateEntered(type: string, name: string, input: unknown): NewEvent {
  return {
    type: `${type}StateEntered`,
    detailsKey: "stateEnteredEventDetails",
    details: { name, input: json(input), inputDetails: { truncated: false } },
  };
}

/** A state's exit; Fail states have none, as in AWS. */
export function stateExited(type: string, name: string, output: unknown): NewEvent | undefined {
  if (!STATE_TYPES_WITH_EXIT.has(type)) return undefined;
  return {
    type: `${type}StateExited`,
    detailsKey: "stateExitedEventDetails",
    details: { name, output: json(output), outputDetails: { truncated: false } },
  };
}

/** A state abandoned by StopExecution or a time-out, for the types AWS records it for. */
export function stateAborted(type: string): NewEvent | undefined {
  return ["Task", "Wait", "Map", "Parallel"].includes(type)
    ? { type: `${type}StateAborted` }
    : undefined;
}

export function json(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/** One entry of aws-local-stepfunctions' event log, as far as we read it. */
export interface LibraryEvent {
  type: string;
  index?: number;
  state?: { name: string; type: string; input: unknown; output?: unknown };
  parentState?: { name: string };
}

/**
 * The events of the states inside a Map or Parallel, from the library's log of one top-level
 * state's run. The top-level state's own events, and those of the derived definition's markers,
 * are the engine's to write.
 */
export function innerEvent(
  log: LibraryEvent,
  topState: string,
  typeOf: (name: string) => string | undefined,
): NewEvent | undefined {
  const state = log.state;
  switch (log.type) {
    case "StateEntered":
    case "StateExited": {
      const type = state ? typeOf(state.name) : undefined;
      if (!state || !type || state.name === topState) return undefined;
      return log.type === "StateEntered"
        ? stateEntered(type, state.name, state.input)
        : stateExited(type, state.name, state.output);
    }
    case "MapIterationStarted":
    case "MapIterationSucceeded":
    case "MapIterationFailed":
      return log.parentState
        ? { type: log.type, details: { name: log.parentState.name, index: log.index ?? 0 } }
        : undefined;
    default:
      return undefined;
  }
}
