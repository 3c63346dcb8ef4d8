import {
  ExecutionAbortedError,
  StateMachine,
  type StateMachineDefinition,
} from "aws-local-stepfunctions";
import { bindTasks } from "./asl";
import { AwsServiceError, type Operations } from "./aws-json-server";
import type { LambdaRuntime } from "./lambda-runtime";

type ExecutionStatus = "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED";

interface HistoryEventBody {
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

type HistoryEvent = HistoryEventBody & { id: number; previousEventId: number };

interface Execution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  input: string;
  startDate: number;
  stopDate?: number;
  output?: string;
  error?: string | undefined;
  cause?: string | undefined;
  history: HistoryEvent[];
  abort: () => void;
  done: Promise<void>;
}

interface Machine {
  arn: string;
  name: string;
  definition: StateMachineDefinition;
  machine: StateMachine;
  handlers: Record<string, (input: unknown) => Promise<unknown>>;
  createdAt: number;
}

const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/**
 * A Step Functions stand-in: the ASL definitions of serverless.yml run in aws-local-stepfunctions,
 * with each Lambda task state calling its function in-process. It answers the SFN API calls
 * Sluice makes, in the shapes the SDK expects (dates as epoch seconds, errors by `__type`).
 */
/** What Step Functions tells EventBridge when an execution ends. */
export interface ExecutionStatusChange {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate: number;
  error?: string | undefined;
  cause?: string | undefined;
}

export class LocalStepFunctions {
  private readonly machines = new Map<string, Machine>();
  private readonly executions = new Map<string, Execution>();
  private readonly endListeners = new Set<(change: ExecutionStatusChange) => void>();
  private stopping = false;

  constructor(
    private readonly lambdas: LambdaRuntime,
    /** Service integrations by resource ARN, e.g. `arn:aws:states:::codebuild:startBuild.sync`. */
    private readonly integrations: Record<string, (input: unknown) => Promise<unknown>>,
    private readonly region: string,
    private readonly accountId: string,
  ) {}

  arnOf(name: string): string {
    return `arn:aws:states:${this.region}:${this.accountId}:stateMachine:${name}`;
  }

  /** Registers a definition whose Lambda tasks reference functions with `Fn::GetAtt: [fn, Arn]`. */
  register(name: string, rawDefinition: unknown): string {
    const bound = bindTasks(
      rawDefinition,
      (fn) => (this.lambdas.has(fn) ? this.lambdas.arnOf(fn) : undefined),
      new Set(Object.keys(this.integrations)),
    );
    const definition = bound.definition as StateMachineDefinition;
    const handlers: Machine["handlers"] = {};
    for (const [stateName, target] of bound.tasks) {
      if (target.kind === "function") {
        handlers[stateName] = (input) => this.lambdas.invoke(target.name, input);
      } else {
        const integration = this.integrations[target.resource];
        if (integration) handlers[stateName] = integration;
      }
    }
    const arn = this.arnOf(name);
    this.machines.set(arn, {
      arn,
      name,
      definition,
      machine: new StateMachine(definition, { validationOptions: { checkArn: false } }),
      handlers,
      createdAt: Date.now() / 1000,
    });
    return arn;
  }

  /** Resolves when every execution running now has ended. */
  async drain(): Promise<void> {
    await Promise.all([...this.executions.values()].map((e) => e.done));
  }

  /** Calls `listener` with each execution that ends, as EventBridge's status change events. */
  onEnded(listener: (change: ExecutionStatusChange) => void): void {
    this.endListeners.add(listener);
  }

  /**
   * Stops every execution, as the local stack does when it stops. These ends are not announced:
   * they are the laptop's, not the pipeline's, and reacting to them would start queued runs.
   */
  abortAll(): void {
    this.stopping = true;
    for (const e of this.executions.values()) if (e.status === "RUNNING") e.abort();
  }

  readonly operations: Operations = {
    ListStateMachines: async () => ({
      stateMachines: [...this.machines.values()].map((m) => ({
        stateMachineArn: m.arn,
        name: m.name,
        type: "STANDARD",
        creationDate: m.createdAt,
      })),
    }),
    DescribeStateMachine: async (input) => {
      const m = this.machine(input.stateMachineArn);
      return {
        stateMachineArn: m.arn,
        name: m.name,
        status: "ACTIVE",
        definition: JSON.stringify(m.definition),
        roleArn: `arn:aws:iam::${this.accountId}:role/local`,
        type: "STANDARD",
        creationDate: m.createdAt,
      };
    },
    StartExecution: async (input) => this.start(input),
    DescribeExecution: async (input) => {
      const e = this.execution(input.executionArn);
      return {
        executionArn: e.executionArn,
        stateMachineArn: e.stateMachineArn,
        name: e.name,
        status: e.status,
        startDate: e.startDate,
        input: e.input,
        ...(e.stopDate !== undefined ? { stopDate: e.stopDate } : {}),
        ...(e.output !== undefined ? { output: e.output } : {}),
        ...(e.error !== undefined ? { error: e.error } : {}),
        ...(e.cause !== undefined ? { cause: e.cause } : {}),
      };
    },
    GetExecutionHistory: async (input) => {
      const e = this.execution(input.executionArn);
      const events = input.reverseOrder ? [...e.history].reverse() : e.history;
      const start = Number(input.nextToken ?? 0);
      const size = Number(input.maxResults ?? 0) || 1000;
      const page = events.slice(start, start + size);
      const next = start + size < events.length ? { nextToken: String(start + size) } : {};
      return { events: page, ...next };
    },
    ListExecutions: async (input) => {
      const arn = String(input.stateMachineArn ?? "");
      const executions = [...this.executions.values()]
        .filter((e) => e.stateMachineArn === arn)
        .filter((e) => !input.statusFilter || e.status === input.statusFilter)
        .sort((a, b) => b.startDate - a.startDate)
        .map(({ executionArn, stateMachineArn, name, status, startDate, stopDate }) => ({
          executionArn,
          stateMachineArn,
          name,
          status,
          startDate,
          ...(stopDate !== undefined ? { stopDate } : {}),
        }));
      return { executions };
    },
    StopExecution: async (input) => {
      const e = this.execution(input.executionArn);
      if (e.status === "RUNNING") {
        e.error = typeof input.error === "string" ? input.error : undefined;
        e.cause = typeof input.cause === "string" ? input.cause : undefined;
        e.abort();
        await e.done;
      }
      return { stopDate: e.stopDate ?? Date.now() / 1000 };
    },
  };

  private start(input: Record<string, unknown>): { executionArn: string; startDate: number } {
    const m = this.machine(input.stateMachineArn);
    const name = String(input.name ?? crypto.randomUUID());
    if (!EXECUTION_NAME.test(name)) {
      throw new AwsServiceError("InvalidName", `invalid execution name: ${name}`);
    }
    const executionArn = `${m.arn.replace(":stateMachine:", ":execution:")}:${name}`;
    const inputText = typeof input.input === "string" ? input.input : "{}";
    const existing = this.executions.get(executionArn);
    if (existing) {
      // As in AWS: the same name and input while running is the same start; anything else is a clash.
      if (existing.status === "RUNNING" && existing.input === inputText) {
        return { executionArn, startDate: existing.startDate };
      }
      throw new AwsServiceError(
        "ExecutionAlreadyExists",
        `Execution Already Exists: '${executionArn}'`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(inputText);
    } catch {
      throw new AwsServiceError("InvalidExecutionInput", "execution input is not valid JSON");
    }
    const startDate = Date.now() / 1000;
    const run = m.machine.run(parsed as never, {
      overrides: { taskResourceLocalHandlers: m.handlers as never },
      context: {
        Execution: {
          Id: executionArn,
          Name: name,
          Input: parsed as never,
          StartTime: new Date().toISOString(),
        },
        StateMachine: { Id: m.arn, Name: m.name },
      },
    });
    const execution: Execution = {
      executionArn,
      stateMachineArn: m.arn,
      name,
      status: "RUNNING",
      input: inputText,
      startDate,
      history: [],
      abort: run.abort,
      done: Promise.resolve(),
    };
    const recording = this.record(execution, run.eventLogs);
    execution.done = run.result
      .then(
        (output) => {
          execution.status = "SUCCEEDED";
          execution.output = JSON.stringify(output);
        },
        (err: unknown) => {
          if (err instanceof ExecutionAbortedError) {
            execution.status = "ABORTED";
            return;
          }
          const failure = err as Error & { cause?: unknown };
          const inner = failure.cause instanceof Error ? failure.cause : failure;
          execution.status = "FAILED";
          execution.error = inner.name;
          execution.cause = inner.message;
        },
      )
      .then(async () => {
        const stopDate = Date.now() / 1000;
        execution.stopDate = stopDate;
        await recording;
        if (this.stopping) return;
        const { executionArn, stateMachineArn, status, error, cause } = execution;
        const change = {
          executionArn,
          stateMachineArn,
          name,
          status,
          startDate,
          stopDate,
          error,
          cause,
        };
        for (const listener of this.endListeners) listener(change);
      });
    this.executions.set(executionArn, execution);
    return { executionArn, startDate };
  }

  private async record(execution: Execution, logs: AsyncGenerator<unknown>): Promise<void> {
    try {
      for await (const log of logs) {
        const event = toHistoryEvent(log as LocalEvent);
        if (!event) continue;
        const id = execution.history.length + 1;
        execution.history.push({ ...event, id, previousEventId: id - 1 });
      }
    } catch {
      // The log ends with the execution's own error, which the result already reports.
    }
  }

  private machine(arn: unknown): Machine {
    const m = this.machines.get(String(arn));
    if (!m)
      throw new AwsServiceError(
        "StateMachineDoesNotExist",
        `State Machine Does Not Exist: '${String(arn)}'`,
      );
    return m;
  }

  private execution(arn: unknown): Execution {
    const e = this.executions.get(String(arn));
    if (!e)
      throw new AwsServiceError(
        "ExecutionDoesNotExist",
        `Execution Does Not Exist: '${String(arn)}'`,
      );
    return e;
  }
}

interface LocalEvent {
  type: string;
  timestamp: number;
  input?: unknown;
  output?: unknown;
  Error?: string;
  Cause?: unknown;
  state?: { name: string; type: string; input: unknown; output?: unknown };
  index?: number;
}

/** Maps aws-local-stepfunctions' event log onto the history event types of the SFN API. */
function toHistoryEvent(log: LocalEvent): HistoryEventBody | undefined {
  const timestamp = log.timestamp / 1000;
  switch (log.type) {
    case "ExecutionStarted":
      return {
        timestamp,
        type: "ExecutionStarted",
        executionStartedEventDetails: { input: JSON.stringify(log.input) },
      };
    case "ExecutionSucceeded":
      return {
        timestamp,
        type: "ExecutionSucceeded",
        executionSucceededEventDetails: { output: JSON.stringify(log.output) },
      };
    case "ExecutionFailed":
      return {
        timestamp,
        type: "ExecutionFailed",
        executionFailedEventDetails: { error: log.Error, cause: String(log.Cause ?? "") },
      };
    case "ExecutionAborted":
      return { timestamp, type: "ExecutionAborted", executionAbortedEventDetails: {} };
    case "StateEntered":
      return log.state
        ? {
            timestamp,
            type: `${log.state.type}StateEntered`,
            stateEnteredEventDetails: {
              name: log.state.name,
              input: JSON.stringify(log.state.input),
            },
          }
        : undefined;
    case "StateExited":
      return log.state
        ? {
            timestamp,
            type: `${log.state.type}StateExited`,
            stateExitedEventDetails: {
              name: log.state.name,
              output: JSON.stringify(log.state.output ?? null),
            },
          }
        : undefined;
    case "StateFailed":
      return log.state
        ? {
            timestamp,
            type: log.state.type === "Task" ? "TaskFailed" : `${log.state.type}StateFailed`,
            taskFailedEventDetails: { error: log.Error, cause: String(log.Cause ?? "") },
          }
        : undefined;
    default:
      return undefined;
  }
}
