import { StateMachine, type StateMachineDefinition } from "aws-local-stepfunctions";
import type { TaskTarget } from "../asl";
import type { Scales } from "./timing";

type Json = Record<string, unknown>;

/** What one Task or Wait state does, read from the definition as written. */
export type Step =
  | {
      kind: "task";
      target: TaskTarget;
      /** The Resource as bound (an ARN for functions). */
      resource: string;
      timeoutSeconds?: number;
      heartbeatSeconds?: number;
    }
  | { kind: "wait" };

/** What a Task or Wait receives from its derived Parameters. */
export interface TaskEnvelope {
  payload: unknown;
  timeoutSeconds?: unknown;
  heartbeatSeconds?: unknown;
}
export interface WaitEnvelope {
  input: unknown;
  seconds?: unknown;
  timestamp?: unknown;
}

/** How one top-level state, run alone, ended: where the execution goes next, and with what. */
export interface StateOutcome {
  next?: string;
  output: unknown;
}

const MARKER = "sluice:next:";
const END = "sluice:end";
const WAIT_RESOURCE = "sluice:wait";

/**
 * A state machine prepared for the local engine. The engine walks the top-level states itself
 * (so it can record each one, resume one after a restart and redrive a failed one); each state
 * is run alone in aws-local-stepfunctions through a derived definition:
 * - its transitions lead to marker states that hand back the next state's name with the output;
 * - Wait states become tasks of our own, so waits are scaled, durable and abortable;
 * - Task Parameters are wrapped with their TimeoutSecondsPath/HeartbeatSecondsPath values, and
 *   the library's own task timer (60 s by default) is set as far as Node's timers reach: we
 *   enforce TimeoutSeconds and HeartbeatSeconds ourselves, and hand a longer wait on to a new
 *   run of the state (RelayError);
 * - Retry intervals are scaled;
 * - `$$.Execution.Input`/`StartTime` read the execution's, not the state's (the library sets
 *   them from the input it is given).
 * Map and Parallel states run as a whole, their inner states in the library.
 */
export class MachinePlan {
  readonly steps = new Map<string, Step>();
  /** Every state's type, inner ones included, by name (names are unique in a definition). */
  readonly types = new Map<string, string>();
  private readonly derived = new Map<string, StateMachine>();
  private readonly inner = new Map<string, string[]>();

  constructor(
    readonly definition: StateMachineDefinition,
    tasks: ReadonlyMap<string, TaskTarget>,
    private readonly scales: Scales,
  ) {
    this.collect(definition as unknown as Json, tasks, undefined);
  }

  get startAt(): string {
    return this.definition.StartAt;
  }

  get timeoutSeconds(): number | undefined {
    return (this.definition as unknown as Json).TimeoutSeconds as number | undefined;
  }

  has(stateName: string): boolean {
    return Object.hasOwn(this.definition.States, stateName);
  }

  typeOf(stateName: string): string {
    return this.types.get(stateName) ?? "Task";
  }

  /** The Task and Wait states a top-level state runs: itself and those inside it. */
  stepsOf(stateName: string): string[] {
    return this.inner.get(stateName) ?? [];
  }

  /** The library machine that runs `stateName` alone and ends with a {@link StateOutcome}. */
  machineFor(stateName: string): StateMachine {
    let machine = this.derived.get(stateName);
    if (!machine) {
      machine = new StateMachine(this.derive(stateName), {
        validationOptions: { noValidate: true },
      });
      this.derived.set(stateName, machine);
    }
    return machine;
  }

  /** Whether a run of `stateName` ends with the state's own output rather than an outcome. */
  endsBare(stateName: string): boolean {
    const type = this.typeOf(stateName);
    return type === "Succeed" || type === "Fail";
  }

  private collect(node: Json, tasks: ReadonlyMap<string, TaskTarget>, top: string | undefined) {
    const states = (node.States ?? {}) as Record<string, Json>;
    for (const [name, state] of Object.entries(states)) {
      const owner = top ?? name;
      this.types.set(name, String(state.Type));
      if (state.Type === "Task") {
        const target = tasks.get(name);
        if (!target) throw new Error(`state ${name}: no bound target`);
        this.steps.set(name, {
          kind: "task",
          target,
          resource: String(state.Resource),
          ...(typeof state.TimeoutSeconds === "number"
            ? { timeoutSeconds: state.TimeoutSeconds }
            : {}),
          ...(typeof state.HeartbeatSeconds === "number"
            ? { heartbeatSeconds: state.HeartbeatSeconds }
            : {}),
        });
      } else if (state.Type === "Wait") {
        this.steps.set(name, { kind: "wait" });
      }
      if (this.steps.has(name)) this.inner.set(owner, [...(this.inner.get(owner) ?? []), name]);
      for (const body of bodiesOf(state)) this.collect(body, tasks, owner);
    }
  }

  private derive(stateName: string): StateMachineDefinition {
    const original = this.definition.States[stateName] as unknown as Json;
    const state = this.transform(readExecutionContext(structuredClone(original)) as Json);
    const targets = new Set<string>();
    const mark = (next: unknown) => {
      targets.add(String(next));
      return `${MARKER}${String(next)}`;
    };
    if (state.End === true) {
      delete state.End;
      state.Next = END;
    } else if (typeof state.Next === "string") {
      state.Next = mark(state.Next);
    }
    for (const catcher of (state.Catch ?? []) as Json[]) catcher.Next = mark(catcher.Next);
    for (const choice of (state.Choices ?? []) as Json[]) choice.Next = mark(choice.Next);
    if (typeof state.Default === "string") state.Default = mark(state.Default);
    const markers: Record<string, Json> = {
      [END]: { Type: "Pass", Parameters: { "output.$": "$" }, End: true },
    };
    for (const next of targets) {
      markers[`${MARKER}${next}`] = {
        Type: "Pass",
        Parameters: { next, "output.$": "$" },
        End: true,
      };
    }
    return {
      StartAt: stateName,
      States: { [stateName]: state, ...markers },
    } as unknown as StateMachineDefinition;
  }

  private transform(state: Json): Json {
    if (Array.isArray(state.Retry)) {
      state.Retry = (state.Retry as Json[]).map((retrier) => ({
        ...retrier,
        IntervalSeconds: ((retrier.IntervalSeconds as number | undefined) ?? 1) * this.scales.retry,
        MaxDelaySeconds: Math.min(
          ((retrier.MaxDelaySeconds as number | undefined) ?? Number.POSITIVE_INFINITY) *
            this.scales.retry,
          this.scales.libraryTimerSeconds,
        ),
      }));
    }
    for (const body of bodiesOf(state)) {
      const states = body.States as Record<string, Json>;
      for (const name of Object.keys(states)) states[name] = this.transform(states[name] as Json);
    }
    const cap = this.scales.libraryTimerSeconds;
    if (state.Type === "Task") return taskState(state, cap);
    if (state.Type === "Wait") return waitState(state, cap);
    return state;
  }
}

function taskState(state: Json, timerCap: number): Json {
  const {
    TimeoutSecondsPath,
    HeartbeatSeconds: _heartbeat,
    HeartbeatSecondsPath,
    Parameters,
    ...rest
  } = state;
  return {
    ...rest,
    TimeoutSeconds: timerCap,
    Parameters: {
      ...(Parameters === undefined ? { "payload.$": "$" } : { payload: Parameters }),
      ...(typeof TimeoutSecondsPath === "string" ? { "timeoutSeconds.$": TimeoutSecondsPath } : {}),
      ...(typeof HeartbeatSecondsPath === "string"
        ? { "heartbeatSeconds.$": HeartbeatSecondsPath }
        : {}),
    },
  };
}

function waitState(state: Json, timerCap: number): Json {
  const {
    Seconds,
    SecondsPath,
    Timestamp,
    TimestampPath,
    Type: _type,
    Comment: _c,
    ...rest
  } = state;
  const when =
    Seconds !== undefined
      ? { seconds: Seconds }
      : SecondsPath !== undefined
        ? { "seconds.$": SecondsPath }
        : Timestamp !== undefined
          ? { timestamp: Timestamp }
          : { "timestamp.$": TimestampPath };
  return {
    ...rest,
    Type: "Task",
    Resource: WAIT_RESOURCE,
    TimeoutSeconds: timerCap,
    Parameters: { "input.$": "$", ...when },
  };
}

function bodiesOf(state: Json): Json[] {
  if (state.Type === "Map") {
    const body = (state.ItemProcessor ?? state.Iterator) as Json | undefined;
    return body ? [body] : [];
  }
  if (state.Type === "Parallel") return (state.Branches ?? []) as Json[];
  return [];
}

/** Context paths the library would answer from the state's input; see the class comment. */
function readExecutionContext(node: unknown): unknown {
  if (typeof node === "string") {
    // Replacer functions: in a replacement string, "$$" would stand for one "$".
    return node
      .replaceAll("$$.Execution.Input", () => "$$.Execution.OriginalInput")
      .replaceAll("$$.Execution.StartTime", () => "$$.Execution.OriginalStartTime");
  }
  if (Array.isArray(node)) return node.map(readExecutionContext);
  if (node && typeof node === "object") {
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => [key, readExecutionContext(value)]),
    );
  }
  return node;
}
