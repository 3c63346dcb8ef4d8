import { StateMachine, type StateMachineDefinition } from "aws-local-stepfunctions";
import type { LambdaRuntime } from "../lambda-runtime";
import type { Step, TaskEnvelope, WaitEnvelope } from "./definition";
import { json, type NewEvent } from "./history";
import type { JournalRecord, TokenResult } from "./store";
import { type Scales, sleepUntil } from "./timing";
import { mintToken, withToken } from "./tokens";

/** What a service integration is given besides its input. */
export interface IntegrationContext {
  /** Fires when the execution is stopped, times out, the task times out, or the stack stops. */
  signal: AbortSignal;
  executionArn: string;
  stateName: string;
}

/** A service integration by resource ARN, e.g. `arn:aws:states:::codebuild:startBuild.sync`. */
export type Integration = (input: unknown, context: IntegrationContext) => Promise<unknown>;

/** A task-token wait: issued by a task, resumed by SendTaskSuccess/Failure, kept across restarts. */
export interface PendingTask {
  token: string;
  executionArn: string;
  state: string;
  /** Whether the function that hands the token on was invoked to its end. */
  submitted: boolean;
  timeoutAt?: number;
  heartbeatMs?: number;
  lastBeat: number;
  result?: TokenResult;
  /** Set while a task waits on the token, to hear of its result. */
  wake?: () => void;
}

/** One attempt of one Task state, as the engine hands it to the runner. */
export interface TaskAttempt {
  executionArn: string;
  stateName: string;
  /** The execution's signal: StopExecution, its time-out, or the stack stopping. */
  signal: AbortSignal;
  emit(event: NewEvent): void;
  journal(record: JournalRecord): void;
  /** Keeps work that outlives the attempt (an abandoned invocation) in the engine's drain. */
  track(work: Promise<unknown>): void;
  /** The token wait this attempt continues after a restart, instead of invoking anew. */
  resumed?: PendingTask;
}

export interface TaskRunnerDeps {
  lambdas: LambdaRuntime;
  integrations: Readonly<Record<string, Integration>>;
  region: string;
  scales: Scales;
  /** Pending task tokens of every execution, by token. */
  tokens: Map<string, PendingTask>;
  /** aws-local-stepfunctions' own timeout error, the only kind States.TaskFailed does not match. */
  timeoutError: () => Error;
}

/**
 * Ends a Wait or task-token wait shortly before the library's own timer for the task would
 * (see Timing.libraryTimerSeconds): neither retried nor caught, it tells the engine to run the
 * state again, carrying on the same wait (same token, same deadline).
 */
export class RelayError extends Error {
  readonly isRetryable = false;
  readonly isCatchable = false;

  constructor() {
    super("the wait goes on in a new run of its state");
    this.name = "Sluice.Relay";
  }
}

/**
 * Runs Task and Wait states for the engine, as Step Functions does: Lambda functions in-process,
 * service integrations with an abort signal, callbacks with a task token; TimeoutSeconds as the
 * hard cap (none unless written), HeartbeatSeconds for callbacks; history events as AWS writes
 * them.
 */
export class TaskRunner {
  constructor(private readonly deps: TaskRunnerDeps) {}

  /** A Wait: from `enteredAt`, for its (scaled) seconds, or until its (scaled) timestamp. */
  async wait(envelope: WaitEnvelope, signal: AbortSignal, enteredAt: number): Promise<unknown> {
    signal.throwIfAborted();
    const relayAt = this.relayAt();
    let ms: number;
    if (envelope.seconds !== undefined) {
      if (typeof envelope.seconds !== "number" || envelope.seconds < 0) {
        throw runtimeError(`Wait seconds must be a number >= 0, not ${json(envelope.seconds)}`);
      }
      ms = envelope.seconds * 1000;
    } else {
      const at =
        typeof envelope.timestamp === "string" ? Date.parse(envelope.timestamp) : Number.NaN;
      if (Number.isNaN(at)) {
        throw runtimeError(`Wait timestamp is not an ISO 8601 time: ${json(envelope.timestamp)}`);
      }
      ms = Math.max(0, at - enteredAt);
    }
    const until = enteredAt + ms * this.deps.scales.wait;
    await sleepUntil(Math.min(until, relayAt), signal);
    if (until > relayAt) throw new RelayError();
    return envelope.input;
  }

  async run(
    step: Extract<Step, { kind: "task" }>,
    envelope: TaskEnvelope,
    attempt: TaskAttempt,
  ): Promise<unknown> {
    attempt.signal.throwIfAborted();
    const relayAt = this.relayAt();
    // Let the library's queued "state entered" event be recorded before this task's events.
    await new Promise((resolve) => setImmediate(resolve));
    attempt.signal.throwIfAborted();
    const scale = this.deps.scales.taskTimeout;
    const timeoutSeconds = seconds(envelope.timeoutSeconds, step.timeoutSeconds, "TimeoutSeconds");
    const heartbeatSeconds = seconds(
      envelope.heartbeatSeconds,
      step.heartbeatSeconds,
      "HeartbeatSeconds",
    );
    const timeoutAt =
      attempt.resumed?.timeoutAt ??
      (timeoutSeconds !== undefined ? Date.now() + timeoutSeconds * 1000 * scale : undefined);
    const own = new AbortController();
    const signal = AbortSignal.any([attempt.signal, own.signal]);
    const target = step.target;
    const described = describeResource(step.resource);
    const limits = {
      ...(timeoutSeconds !== undefined ? { timeoutInSeconds: timeoutSeconds } : {}),
      ...(heartbeatSeconds !== undefined ? { heartbeatInSeconds: heartbeatSeconds } : {}),
    };
    const failed = (err: unknown): never => {
      if (attempt.signal.aborted || err instanceof RelayError) throw err;
      const error = err as Error;
      const timedOut = error.name === "States.Timeout" || error.name === "States.HeartbeatTimeout";
      const details = { error: error.name, cause: error.message };
      if (target.kind === "function") {
        attempt.emit({
          type: timedOut ? "LambdaFunctionTimedOut" : "LambdaFunctionFailed",
          details,
        });
      } else {
        attempt.emit({
          type: timedOut ? "TaskTimedOut" : "TaskFailed",
          details: { ...described, ...details },
        });
      }
      throw err;
    };
    try {
      if (target.kind === "function") {
        attempt.emit({
          type: "LambdaFunctionScheduled",
          details: {
            resource: step.resource,
            input: json(envelope.payload),
            inputDetails: { truncated: false },
            ...(timeoutSeconds !== undefined ? { timeoutInSeconds: timeoutSeconds } : {}),
          },
        });
        attempt.emit({ type: "LambdaFunctionStarted" });
        const output = await this.guard(
          this.invoke(target.name, envelope.payload, attempt),
          timeoutAt,
          signal,
        ).catch(failed);
        attempt.emit({
          type: "LambdaFunctionSucceeded",
          details: { output: json(output), outputDetails: { truncated: false } },
        });
        return output;
      }
      if (target.kind === "lambda-invoke" && target.callback) {
        return await this.callback(target.name, envelope, attempt, {
          timeoutAt,
          relayAt,
          heartbeatSeconds,
          signal,
          described,
          limits,
          failed,
        });
      }
      attempt.emit({
        type: "TaskScheduled",
        details: {
          ...described,
          region: this.deps.region,
          parameters: json(envelope.payload),
          ...limits,
        },
      });
      attempt.emit({ type: "TaskStarted", details: described });
      const work =
        target.kind === "lambda-invoke"
          ? this.invokeWithPayload(target.name, envelope.payload, attempt)
          : this.integrate(target.resource, envelope.payload, attempt, signal);
      const output = await this.guard(work, timeoutAt, signal).catch(failed);
      attempt.emit({
        type: "TaskSucceeded",
        details: { ...described, output: json(output), outputDetails: { truncated: false } },
      });
      return output;
    } finally {
      // Whatever the attempt started ends with it, e.g. a build whose task timed out.
      own.abort(ATTEMPT_OVER);
    }
  }

  private async callback(
    functionName: string,
    envelope: TaskEnvelope,
    attempt: TaskAttempt,
    ctx: {
      timeoutAt: number | undefined;
      relayAt: number;
      heartbeatSeconds: number | undefined;
      signal: AbortSignal;
      described: { resourceType: string; resource: string };
      limits: Record<string, number>;
      failed: (err: unknown) => never;
    },
  ): Promise<unknown> {
    const { tokens, scales } = this.deps;
    let pending = attempt.resumed;
    if (!pending) {
      const token = mintToken(attempt.executionArn);
      const heartbeatMs =
        ctx.heartbeatSeconds !== undefined
          ? ctx.heartbeatSeconds * 1000 * scales.taskTimeout
          : undefined;
      pending = {
        token,
        executionArn: attempt.executionArn,
        state: attempt.stateName,
        submitted: false,
        lastBeat: Date.now(),
        ...(ctx.timeoutAt !== undefined ? { timeoutAt: ctx.timeoutAt } : {}),
        ...(heartbeatMs !== undefined ? { heartbeatMs } : {}),
      };
      tokens.set(token, pending);
      attempt.journal({
        k: "token",
        token,
        state: attempt.stateName,
        at: pending.lastBeat,
        ...(ctx.timeoutAt !== undefined ? { timeoutAt: ctx.timeoutAt } : {}),
        ...(heartbeatMs !== undefined ? { heartbeatMs } : {}),
      });
    }
    const task = pending;
    let relayed = false;
    const close = () => {
      if (relayed) return;
      tokens.delete(task.token);
      delete task.wake;
      if (!attempt.signal.aborted) attempt.journal({ k: "token-closed", token: task.token });
    };
    try {
      if (!task.submitted) {
        // A restart before the function returned invokes it again, with the same token.
        const parameters = withToken(envelope.payload, task.token) as Record<string, unknown>;
        attempt.emit({
          type: "TaskScheduled",
          details: {
            ...ctx.described,
            region: this.deps.region,
            parameters: json(parameters),
            ...ctx.limits,
          },
        });
        attempt.emit({ type: "TaskStarted", details: ctx.described });
        const submitted = await this.guard(
          this.invokeWithPayload(functionName, parameters, attempt),
          task.timeoutAt,
          ctx.signal,
        ).catch(ctx.failed);
        task.submitted = true;
        attempt.journal({ k: "token-submitted", token: task.token });
        attempt.emit({
          type: "TaskSubmitted",
          details: {
            ...ctx.described,
            output: json(submitted),
            outputDetails: { truncated: false },
          },
        });
      }
      const result = await this.guard(
        new Promise<TokenResult>((resolve) => {
          if (task.result) resolve(task.result);
          else task.wake = () => task.result && resolve(task.result);
        }),
        task.timeoutAt,
        ctx.signal,
        (watch) =>
          Promise.race([
            this.heartbeats(task, watch),
            sleepUntil(ctx.relayAt, watch).then(() => {
              relayed = true;
              throw new RelayError();
            }),
          ]),
      ).catch(ctx.failed);
      if ("output" in result) {
        attempt.emit({
          type: "TaskSucceeded",
          details: { ...ctx.described, output: result.output, outputDetails: { truncated: false } },
        });
        return JSON.parse(result.output) as unknown;
      }
      return ctx.failed(Object.assign(new Error(result.cause), { name: result.error }));
    } finally {
      close();
    }
  }

  /** When to hand a long wait on, ahead of the library's timer for the attempt starting now. */
  private relayAt(): number {
    return Date.now() + this.deps.scales.libraryTimerSeconds * 900;
  }

  private async heartbeats(task: PendingTask, signal: AbortSignal): Promise<never> {
    const every = task.heartbeatMs;
    if (every === undefined) return new Promise<never>(() => undefined);
    for (;;) {
      const due = task.lastBeat + every;
      if (Date.now() >= due) {
        throw Object.assign(new Error("no heartbeat came in time"), {
          name: "States.HeartbeatTimeout",
        });
      }
      await sleepUntil(due, signal);
    }
  }

  /**
   * Races the work against the task's deadline, the signal and any other watcher. Work still
   * running when the race is lost is left to end by itself (an integration hears the signal).
   */
  private async guard<T>(
    work: Promise<T>,
    timeoutAt: number | undefined,
    signal: AbortSignal,
    watcher?: (signal: AbortSignal) => Promise<never>,
  ): Promise<T> {
    const done = new AbortController();
    const watch = AbortSignal.any([signal, done.signal]);
    const racers: Promise<T>[] = [
      work,
      new Promise<never>((_, reject) => {
        const abort = () => reject(signal.reason ?? new Error("aborted"));
        if (watch.aborted) abort();
        else watch.addEventListener("abort", abort, { once: true });
      }),
    ];
    if (timeoutAt !== undefined) {
      racers.push(
        sleepUntil(timeoutAt, watch).then(() => {
          throw this.deps.timeoutError();
        }),
      );
    }
    if (watcher) racers.push(watcher(watch));
    try {
      return await Promise.race(racers);
    } finally {
      done.abort(ATTEMPT_OVER);
    }
  }

  private invoke(name: string, payload: unknown, attempt: TaskAttempt): Promise<unknown> {
    const work = this.deps.lambdas.invoke(name, payload);
    attempt.track(work);
    return work;
  }

  /** `lambda:invoke`: the function gets `Payload`; the task's result is Lambda's Invoke answer. */
  private async invokeWithPayload(
    name: string,
    parameters: unknown,
    attempt: TaskAttempt,
  ): Promise<unknown> {
    const payload = (parameters as { Payload?: unknown } | null)?.Payload ?? {};
    const result = await this.invoke(name, payload, attempt);
    return { ExecutedVersion: "$LATEST", Payload: result ?? null, StatusCode: 200 };
  }

  private integrate(
    resource: string,
    payload: unknown,
    attempt: TaskAttempt,
    signal: AbortSignal,
  ): Promise<unknown> {
    const integration = this.deps.integrations[resource];
    if (!integration) throw new Error(`no integration for ${resource}`);
    const work = integration(payload, {
      signal,
      executionArn: attempt.executionArn,
      stateName: attempt.stateName,
    });
    attempt.track(work);
    return work;
  }
}

/** Why an attempt's own signal fires once it is over (an error made once: each costs a stack). */
const ATTEMPT_OVER = new Error("the task attempt is over");

/** A TimeoutSeconds/HeartbeatSeconds value, from its Path if it has one. */
function seconds(
  fromPath: unknown,
  written: number | undefined,
  field: string,
): number | undefined {
  if (fromPath === undefined) return written;
  if (typeof fromPath !== "number" || !Number.isInteger(fromPath) || fromPath < 1) {
    throw runtimeError(`${field}Path must point to a positive integer, not ${json(fromPath)}`);
  }
  return fromPath;
}

function runtimeError(message: string): Error {
  return Object.assign(new Error(message), { name: "States.Runtime" });
}

/** `arn:aws:states:::codebuild:startBuild.sync` → codebuild, startBuild.sync (as AWS writes it). */
function describeResource(resource: string): { resourceType: string; resource: string } {
  const match = resource.match(/^arn:aws:states:::([^:]+):(.+)$/);
  return match
    ? { resourceType: match[1] ?? "", resource: match[2] ?? "" }
    : { resourceType: "lambda", resource };
}

/**
 * The library matches `States.TaskFailed` against every error but its own timeout class, which
 * it does not export; one run that times out at once hands us that class.
 */
export async function libraryTimeoutError(): Promise<() => Error> {
  const probe = new StateMachine(
    {
      StartAt: "T",
      States: { T: { Type: "Task", Resource: "probe", TimeoutSeconds: 0.001, End: true } },
    } as unknown as StateMachineDefinition,
    { validationOptions: { noValidate: true } },
  );
  const run = probe.run(
    {},
    { overrides: { taskResourceLocalHandlers: { T: () => new Promise(() => undefined) } } },
  );
  const failure = await run.result.then(
    () => undefined,
    (err: unknown) => (err as { cause?: unknown }).cause,
  );
  if (!(failure instanceof Error) || failure.name !== "States.Timeout") {
    throw new Error("aws-local-stepfunctions no longer times out as expected");
  }
  const TimeoutError = failure.constructor as new () => Error;
  return () => new TimeoutError();
}
