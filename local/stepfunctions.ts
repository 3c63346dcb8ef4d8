import { randomUUID } from "node:crypto";
import { ExecutionError, StateMachine, type StateMachineDefinition } from "aws-local-stepfunctions";
import { logger } from "../http/logger";
import { bindTasks } from "./asl";
import { AwsServiceError, type Operations } from "./aws-json-server";
import type { LambdaRuntime } from "./lambda-runtime";
import { sfnOperations } from "./stepfunctions/api";
import {
  MachinePlan,
  type StateOutcome,
  type TaskEnvelope,
  type WaitEnvelope,
} from "./stepfunctions/definition";
import {
  type HistoryEvent,
  innerEvent,
  json,
  type LibraryEvent,
  type NewEvent,
  numbered,
  stateAborted,
  stateEntered,
  stateExited,
} from "./stepfunctions/history";
import { type End, endOf, type Recovered, replay, terminalEvent } from "./stepfunctions/replay";
import {
  type ExecutionStatus,
  ExecutionStore,
  type ExecutionSummary,
  type JournalRecord,
  type Position,
  type TokenResult,
} from "./stepfunctions/store";
import {
  type Integration,
  libraryTimeoutError,
  type PendingTask,
  RelayError,
  type TaskAttempt,
  TaskRunner,
} from "./stepfunctions/tasks";
import { type Scales, scalesOf, sleepUntil, type Timing } from "./stepfunctions/timing";
import { executionOfToken, TOKEN_PLACEHOLDER } from "./stepfunctions/tokens";

export type { Integration, IntegrationContext } from "./stepfunctions/tasks";
export { type Timing, timingFromEnv } from "./stepfunctions/timing";
export type { ExecutionStatus, ExecutionSummary };

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

export interface LocalStepFunctionsOptions {
  /** Executions are kept under `<stateDir>/stepfunctions/`. */
  stateDir: string;
  lambdas: LambdaRuntime;
  /** Service integrations by resource ARN, e.g. `arn:aws:states:::codebuild:startBuild.sync`. */
  integrations: Record<string, Integration>;
  region: string;
  accountId: string;
  timing?: Timing;
}

/**
 * The Step Functions stand-in, with the executions kept in the state folder. Register the
 * state machines, serve `operations`, then call `resumeAll()` once the services the tasks call
 * are listening: executions a previous process left running continue.
 */
export async function createLocalStepFunctions(
  options: LocalStepFunctionsOptions,
): Promise<LocalStepFunctions> {
  return new LocalStepFunctions(options, await libraryTimeoutError());
}

interface Machine {
  arn: string;
  name: string;
  roleArn: string;
  definition: unknown;
  plan: MachinePlan;
  createdAt: number;
}

/** An execution this process is running. Once its signal fires, it writes nothing more. */
interface Live {
  arn: string;
  controller: AbortController;
  position?: Position;
  run?: { abort(): void };
  work: Set<Promise<unknown>>;
}

const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const MAX_INPUT_BYTES = 256 * 1024;
const REDRIVE_DAYS = 14;
const MAX_REDRIVES = 1000;

/**
 * Step Functions on this machine: the ASL definitions of serverless.yml run in
 * aws-local-stepfunctions, a state at a time (see MachinePlan), with Lambda tasks calling the
 * functions in-process and service integrations called with an abort signal. Executions,
 * their history and their task tokens are written to the state folder as they happen, so they
 * survive a restart, and answer the SFN API in the shapes the SDK expects.
 */
export class LocalStepFunctions {
  readonly operations: Operations;
  private readonly machines = new Map<string, Machine>();
  private readonly summaries = new Map<string, ExecutionSummary>();
  private readonly lastEventIds = new Map<string, number>();
  private readonly live = new Map<string, Live>();
  private readonly running = new Set<Promise<unknown>>();
  private readonly recovered = new Map<string, Recovered>();
  private readonly tokens = new Map<string, PendingTask>();
  private readonly endListeners = new Set<(change: ExecutionStatusChange) => unknown>();
  private readonly store: ExecutionStore;
  private readonly scales: Scales;
  private readonly tasks: TaskRunner;
  private shuttingDown = false;

  constructor(
    private readonly options: LocalStepFunctionsOptions,
    timeoutError: () => Error,
  ) {
    this.scales = scalesOf(options.timing);
    this.store = new ExecutionStore(options.stateDir);
    this.tasks = new TaskRunner({
      lambdas: options.lambdas,
      integrations: options.integrations,
      region: options.region,
      scales: this.scales,
      tokens: this.tokens,
      timeoutError,
    });
    this.load();
    this.operations = sfnOperations(this);
  }

  private get roleArn(): string {
    return `arn:aws:iam::${this.options.accountId}:role/local`;
  }

  arnOf(name: string): string {
    return `arn:aws:states:${this.options.region}:${this.options.accountId}:stateMachine:${name}`;
  }

  /** Registers a definition whose Lambda tasks reference functions with `Fn::GetAtt: [fn, Arn]`. */
  register(name: string, rawDefinition: unknown): string {
    const { lambdas, integrations } = this.options;
    const bound = bindTasks(
      rawDefinition,
      (fn) => (lambdas.has(fn) ? lambdas.arnOf(fn) : undefined),
      new Set(Object.keys(integrations)),
    );
    const definition = bound.definition as StateMachineDefinition;
    // Validates the definition as written (a copy: the validator adds fields); the engine runs
    // derived ones.
    new StateMachine(structuredClone(definition), { validationOptions: { checkArn: false } });
    const arn = this.arnOf(name);
    this.machines.set(arn, {
      arn,
      name,
      roleArn: this.roleArn,
      definition,
      plan: new MachinePlan(definition, bound.tasks, this.scales),
      createdAt: Date.now() / 1000,
    });
    return arn;
  }

  /**
   * Continues every execution a previous process left running, where it was; ends FAILED any
   * that cannot continue; announces ends that were not announced before the process died.
   */
  resumeAll(): void {
    for (const summary of this.summaries.values()) {
      if (summary.status !== "RUNNING" && !summary.announced) this.announce(summary);
    }
    for (const [arn, recovered] of this.recovered) {
      const summary = this.summaries.get(arn);
      if (!summary) continue;
      const { position, ended } = recovered;
      if (ended) {
        this.conclude(summary, endOf(ended, position));
        continue;
      }
      const machine = this.machines.get(summary.stateMachineArn);
      const problem =
        recovered.problem ??
        (!machine
          ? `its state machine ${summary.stateMachineArn} is no longer defined`
          : position && !machine.plan.has(position.state)
            ? `its state ${position.state} is no longer in the definition of ${machine.name}`
            : undefined);
      if (problem) {
        const cause = `the execution cannot continue after a restart: ${problem}`;
        this.record(arn, { type: "ExecutionFailed", details: { error: "States.Runtime", cause } });
        this.conclude(summary, {
          status: "FAILED",
          error: "States.Runtime",
          cause,
          failedAt: position,
        });
        continue;
      }
      this.launch(summary, position ? { position, entered: true } : undefined, recovered.token);
    }
    this.recovered.clear();
  }

  /** Resolves when every execution running now has ended or stopped, and its ends are told. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /**
   * Calls `listener` with each execution that ends, as EventBridge's status change events. An
   * end counts as announced once every listener's promise resolves; one that is not (the
   * process died first) is announced again by the next process's `resumeAll()`.
   */
  onEnded(listener: (change: ExecutionStatusChange) => unknown): void {
    this.endListeners.add(listener);
  }

  /**
   * Stops every execution, as the local stack does when it stops: each is left RUNNING in the
   * store, to continue at the next start. These ends are not announced: they are the laptop's,
   * not the pipeline's, and reacting to them would start queued runs.
   */
  abortAll(): void {
    this.shuttingDown = true;
    for (const live of this.live.values()) live.controller.abort(new Error("the stack stopped"));
  }

  /**
   * What the stack calls when it stops: `abortAll()`, then waits until every execution's work
   * (a build's processes included) has ended and every end already reached is announced.
   */
  async stop(): Promise<void> {
    this.abortAll();
    await this.drain();
    this.store.close();
  }

  // The SFN API, as `operations` serves it; errors are AwsServiceErrors with AWS's names.

  listMachines(): Machine[] {
    return [...this.machines.values()];
  }

  machine(arn: string): Machine {
    const m = this.machines.get(arn);
    if (!m) {
      throw new AwsServiceError(
        "StateMachineDoesNotExist",
        `State Machine Does Not Exist: '${arn}'`,
      );
    }
    return m;
  }

  execution(arn: string): ExecutionSummary {
    const summary = this.summaries.get(arn);
    if (!summary) {
      throw new AwsServiceError("ExecutionDoesNotExist", `Execution Does Not Exist: '${arn}'`);
    }
    return summary;
  }

  executionsOf(stateMachineArn: string): ExecutionSummary[] {
    this.machine(stateMachineArn);
    return [...this.summaries.values()].filter((s) => s.stateMachineArn === stateMachineArn);
  }

  history(executionArn: string): HistoryEvent[] {
    this.execution(executionArn);
    return this.store.readJournal(executionArn).flatMap((r) => (r.k === "event" ? [r.event] : []));
  }

  /** Why an execution cannot be redriven, or undefined when it can. */
  notRedrivable(summary: ExecutionSummary): string | undefined {
    if (summary.status === "RUNNING" || summary.status === "SUCCEEDED") {
      return `Execution is ${summary.status} and cannot be redriven`;
    }
    if (!this.machines.has(summary.stateMachineArn)) return "Its state machine no longer exists";
    if ((summary.stopDate ?? 0) < Date.now() / 1000 - REDRIVE_DAYS * 86_400) {
      return `Execution ended more than ${REDRIVE_DAYS} days ago`;
    }
    if (summary.redriveCount >= MAX_REDRIVES) {
      return `Execution was redriven ${MAX_REDRIVES} times, the most allowed`;
    }
    return undefined;
  }

  start(request: {
    stateMachineArn: string;
    name?: string | undefined;
    input?: string | undefined;
  }) {
    const m = this.machine(request.stateMachineArn);
    const name = request.name ?? randomUUID();
    if (!EXECUTION_NAME.test(name)) {
      throw new AwsServiceError("InvalidName", `Invalid Name: '${name}'`);
    }
    const executionArn = `${m.arn.replace(":stateMachine:", ":execution:")}:${name}`;
    const input = request.input ?? "{}";
    const existing = this.summaries.get(executionArn);
    if (existing) {
      // As in AWS: the same name and input while running is the same start; anything else is a clash.
      if (existing.status === "RUNNING" && existing.input === input) {
        return { executionArn, startDate: existing.startDate };
      }
      throw new AwsServiceError(
        "ExecutionAlreadyExists",
        `Execution Already Exists: '${executionArn}'`,
      );
    }
    if (Buffer.byteLength(input) > MAX_INPUT_BYTES) {
      throw new AwsServiceError("InvalidExecutionInput", "execution input exceeds 256 KiB");
    }
    try {
      JSON.parse(input);
    } catch {
      throw new AwsServiceError("InvalidExecutionInput", "Invalid State Machine Execution Input");
    }
    const startDate = Date.now() / 1000;
    const summary: ExecutionSummary = {
      executionArn,
      stateMachineArn: m.arn,
      name,
      input,
      startDate,
      status: "RUNNING",
      redriveCount: 0,
      announced: false,
    };
    const started = numbered(
      {
        type: "ExecutionStarted",
        details: {
          input,
          inputDetails: { truncated: false },
          roleArn: this.roleArn,
        },
      },
      1,
      startDate,
    );
    this.store.create(summary, [{ k: "event", event: started }]);
    this.summaries.set(executionArn, summary);
    this.lastEventIds.set(executionArn, 1);
    this.launch(summary, undefined, undefined);
    return { executionArn, startDate };
  }

  stopExecution(executionArn: string, error?: string, cause?: string): { stopDate: number } {
    const summary = this.execution(executionArn);
    if (summary.status !== "RUNNING") return { stopDate: summary.stopDate ?? Date.now() / 1000 };
    const details = {
      ...(error !== undefined ? { error } : {}),
      ...(cause !== undefined ? { cause } : {}),
    };
    const live = this.live.get(executionArn);
    const position = live?.position ?? this.recovered.get(executionArn)?.position;
    if (live && !live.controller.signal.aborted) {
      const aborted = position ? stateAborted(this.typeIn(summary, position.state)) : undefined;
      if (aborted) this.emit(live, aborted);
      this.emit(live, { type: "ExecutionAborted", details });
      live.controller.abort(new Error("the execution was stopped"));
    } else {
      this.record(executionArn, { type: "ExecutionAborted", details });
    }
    this.recovered.delete(executionArn);
    this.conclude(summary, { status: "ABORTED", error, cause, failedAt: position });
    return { stopDate: summary.stopDate ?? Date.now() / 1000 };
  }

  redrive(executionArn: string): { redriveDate: number } {
    const summary = this.execution(executionArn);
    const why = this.notRedrivable(summary);
    if (why) throw new AwsServiceError("ExecutionNotRedrivable", `${why}: '${executionArn}'`);
    const plan = this.machine(summary.stateMachineArn).plan;
    const from = summary.failedAt ?? { state: plan.startAt, input: JSON.parse(summary.input) };
    const redriveDate = Date.now() / 1000;
    summary.status = "RUNNING";
    summary.redriveCount += 1;
    summary.redriveDate = redriveDate;
    summary.announced = false;
    for (const field of ["stopDate", "output", "error", "cause", "failedAt"] as const) {
      delete summary[field];
    }
    this.record(executionArn, {
      type: "ExecutionRedriven",
      details: { redriveCount: summary.redriveCount },
    });
    this.store.save(summary);
    this.launch(summary, {
      position: { state: from.state, input: from.input, at: Date.now() },
      entered: false,
    });
    return { redriveDate };
  }

  sendTaskSuccess(token: string, output: string): void {
    try {
      JSON.parse(output);
    } catch {
      throw new AwsServiceError("InvalidOutput", "Invalid output: it is not JSON");
    }
    this.settle(this.pendingTask(token), { output });
  }

  sendTaskFailure(token: string, error: string | undefined, cause: string | undefined): void {
    this.settle(this.pendingTask(token), { error: error ?? "", cause: cause ?? "" });
  }

  sendTaskHeartbeat(token: string): void {
    const task = this.pendingTask(token);
    task.lastBeat = Date.now();
    this.store.append(task.executionArn, { k: "heartbeat", token, at: task.lastBeat });
  }

  private settle(task: PendingTask, result: TokenResult): void {
    task.result = result;
    this.store.append(task.executionArn, { k: "token-result", token: task.token, result });
    task.wake?.();
  }

  private pendingTask(token: string): PendingTask {
    const executionArn = executionOfToken(token);
    if (!executionArn) throw new AwsServiceError("InvalidToken", "Invalid Token");
    const task = this.tokens.get(token);
    if (task && !task.result) return task;
    if (!this.summaries.has(executionArn)) {
      throw new AwsServiceError("TaskDoesNotExist", "Task Does Not Exist");
    }
    throw new AwsServiceError(
      "TaskTimedOut",
      "Task Timed Out: 'Provided task does not exist anymore'",
    );
  }

  // The engine.

  private load(): void {
    const stored = this.store.loadAll(
      (machine, name) => `${this.arnOf(machine).replace(":stateMachine:", ":execution:")}:${name}`,
      (machine) => this.arnOf(machine),
    );
    for (const { summary, journal, problem } of stored) {
      this.summaries.set(summary.executionArn, summary);
      if (summary.status !== "RUNNING") continue;
      const recovered = replay(summary.executionArn, journal);
      this.lastEventIds.set(summary.executionArn, recovered.lastEventId);
      if (recovered.token) this.tokens.set(recovered.token.token, recovered.token);
      this.recovered.set(summary.executionArn, {
        ...recovered,
        ...(problem !== undefined ? { problem } : {}),
      });
    }
  }

  private launch(
    summary: ExecutionSummary,
    from: { position: Position; entered: boolean } | undefined,
    resumed?: PendingTask,
  ): void {
    // Accepted while the stack stops: kept RUNNING, to start with the next process.
    if (this.shuttingDown) return;
    const live: Live = {
      arn: summary.executionArn,
      controller: new AbortController(),
      work: new Set(),
    };
    live.controller.signal.addEventListener("abort", () => live.run?.abort(), { once: true });
    this.live.set(live.arn, live);
    const done: Promise<void> = this.drive(summary, live, from, resumed)
      .catch((err: unknown) => {
        // A failure to write the store: the execution stays RUNNING there and resumes later.
        if (!live.controller.signal.aborted) {
          logger.error("local Step Functions could not go on with an execution", {
            executionArn: live.arn,
            error: err,
          });
        }
        live.controller.abort(err);
      })
      .finally(async () => {
        while (live.work.size > 0) await Promise.allSettled([...live.work]);
        if (this.live.get(live.arn) === live) {
          this.live.delete(live.arn);
          this.store.release(live.arn);
        }
        this.running.delete(done);
      });
    this.running.add(done);
  }

  private async drive(
    summary: ExecutionSummary,
    live: Live,
    from: { position: Position; entered: boolean } | undefined,
    resumed: PendingTask | undefined,
  ): Promise<void> {
    const { plan } = this.machine(summary.stateMachineArn);
    let position: Position = from?.position ?? {
      state: plan.startAt,
      input: JSON.parse(summary.input),
      at: Date.now(),
    };
    let entered = from?.entered ?? false;
    let resume = resumed;
    this.watchTimeout(summary, live, plan.timeoutSeconds);
    try {
      for (;;) {
        live.position = position;
        if (!plan.has(position.state)) {
          throw Object.assign(new Error(`the definition has no state ${position.state}`), {
            name: "States.Runtime",
          });
        }
        const type = plan.typeOf(position.state);
        if (!entered) {
          this.journal(live, { k: "enter", ...position });
          this.emit(live, stateEntered(type, position.state, position.input));
        }
        entered = false;
        let outcome: StateOutcome;
        try {
          outcome = await this.runState(summary, live, plan, position, resume);
        } catch (err) {
          if (!(err instanceof ExecutionError && err.cause instanceof RelayError)) throw err;
          entered = true;
          resume = [...this.tokens.values()].find(
            (t) => t.executionArn === live.arn && t.state === position.state,
          );
          continue;
        }
        resume = undefined;
        const exited = stateExited(type, position.state, outcome.output);
        if (exited) this.emit(live, exited);
        if (outcome.next === undefined) {
          this.end(live, summary, { status: "SUCCEEDED", output: json(outcome.output) });
          return;
        }
        position = { state: outcome.next, input: outcome.output, at: Date.now() };
      }
    } catch (err) {
      if (live.controller.signal.aborted) return;
      const failure = err instanceof ExecutionError && err.cause instanceof Error ? err.cause : err;
      const { name, message } = failure instanceof Error ? failure : new Error(String(failure));
      this.end(live, summary, {
        status: "FAILED",
        error: name,
        cause: message,
        failedAt: position,
      });
    }
  }

  /** Runs one top-level state alone in the library; its tasks and waits run here. */
  private async runState(
    summary: ExecutionSummary,
    live: Live,
    plan: MachinePlan,
    position: Position,
    resumed: PendingTask | undefined,
  ): Promise<StateOutcome> {
    let resume = resumed;
    const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const name of plan.stepsOf(position.state)) {
      const step = plan.steps.get(name);
      const top = name === position.state;
      if (step?.kind === "wait") {
        handlers[name] = (envelope) =>
          this.tasks.wait(
            envelope as WaitEnvelope,
            live.controller.signal,
            top ? position.at : Date.now(),
          );
      } else if (step) {
        handlers[name] = (envelope) => {
          const attempt: TaskAttempt = {
            executionArn: live.arn,
            stateName: name,
            signal: live.controller.signal,
            emit: (event) => this.emit(live, event),
            journal: (record) => this.journal(live, record),
            track: (work) => {
              live.work.add(work);
              const forget = () => live.work.delete(work);
              work.then(forget, forget);
            },
            ...(top && resume ? { resumed: resume } : {}),
          };
          if (top) resume = undefined;
          return this.tasks.run(step, envelope as TaskEnvelope, attempt);
        };
      }
    }
    const machine = this.machine(summary.stateMachineArn);
    const run = plan.machineFor(position.state).run(position.input as never, {
      overrides: { taskResourceLocalHandlers: handlers as never },
      context: {
        Execution: {
          Id: summary.executionArn,
          Name: summary.name,
          OriginalInput: JSON.parse(summary.input),
          OriginalStartTime: new Date(summary.startDate * 1000).toISOString(),
          RoleArn: this.roleArn,
        },
        StateMachine: { Id: machine.arn, Name: machine.name },
        Task: { Token: TOKEN_PLACEHOLDER },
      } as never,
    });
    live.run = run;
    if (live.controller.signal.aborted) run.abort();
    const recording = this.recordInner(live, plan, position.state, run.eventLogs);
    try {
      const result = await run.result;
      return plan.endsBare(position.state)
        ? { output: result }
        : (result as unknown as StateOutcome);
    } finally {
      await recording;
    }
  }

  private async recordInner(
    live: Live,
    plan: MachinePlan,
    topState: string,
    logs: AsyncGenerator<unknown>,
  ): Promise<void> {
    try {
      for await (const log of logs) {
        const event = innerEvent(log as LibraryEvent, topState, (n) => plan.types.get(n));
        if (event) this.emit(live, event);
      }
    } catch {
      // The log ends with the run's own error, which the run's result reports.
    }
  }

  /** The state machine's TimeoutSeconds, counted from the start or the last redrive. */
  private watchTimeout(summary: ExecutionSummary, live: Live, seconds: number | undefined): void {
    if (seconds === undefined) return;
    const from = (summary.redriveDate ?? summary.startDate) * 1000;
    sleepUntil(from + seconds * 1000 * this.scales.taskTimeout, live.controller.signal).then(
      () => {
        if (live.controller.signal.aborted) return;
        const details = {
          error: "States.Timeout",
          cause: `The execution ran longer than its TimeoutSeconds (${seconds})`,
        };
        this.emit(live, { type: "ExecutionTimedOut", details });
        live.controller.abort(new Error("the execution timed out"));
        this.conclude(summary, { status: "TIMED_OUT", ...details, failedAt: live.position });
      },
      () => undefined,
    );
  }

  private end(live: Live, summary: ExecutionSummary, end: End): void {
    if (live.controller.signal.aborted) return;
    this.emit(live, terminalEvent(end));
    live.controller.abort(new Error("the execution ended"));
    this.conclude(summary, end);
  }

  /** Writes an execution's end to its summary and announces it. */
  private conclude(summary: ExecutionSummary, end: End): void {
    for (const [token, task] of this.tokens) {
      if (task.executionArn === summary.executionArn) this.tokens.delete(token);
    }
    summary.status = end.status;
    summary.stopDate = Date.now() / 1000;
    summary.announced = false;
    for (const field of ["output", "error", "cause", "failedAt"] as const) {
      const value = end[field];
      if (value === undefined) delete summary[field];
      else Object.assign(summary, { [field]: value });
    }
    this.store.save(summary);
    if (!this.live.has(summary.executionArn)) this.store.release(summary.executionArn);
    this.announce(summary);
  }

  private announce(summary: ExecutionSummary): void {
    const change: ExecutionStatusChange = {
      executionArn: summary.executionArn,
      stateMachineArn: summary.stateMachineArn,
      name: summary.name,
      status: summary.status,
      startDate: summary.startDate,
      stopDate: summary.stopDate ?? Date.now() / 1000,
      error: summary.error,
      cause: summary.cause,
    };
    const told = Promise.allSettled(
      [...this.endListeners].map(async (listener) => listener(change)),
    ).then((results) => {
      const still = summary.status === change.status && summary.stopDate === change.stopDate;
      if (!still || results.some((r) => r.status === "rejected")) return;
      summary.announced = true;
      try {
        this.store.markAnnounced(summary);
      } catch {
        // The state folder is gone (a test removed it after the stack stopped): nothing to keep.
      }
    });
    this.running.add(told);
    told.finally(() => this.running.delete(told));
  }

  private typeIn(summary: ExecutionSummary, state: string): string {
    return this.machines.get(summary.stateMachineArn)?.plan.typeOf(state) ?? "Task";
  }

  private emit(live: Live, event: NewEvent): void {
    if (!live.controller.signal.aborted) this.record(live.arn, event);
  }

  private journal(live: Live, record: JournalRecord): void {
    if (!live.controller.signal.aborted) this.store.append(live.arn, record);
  }

  private record(executionArn: string, event: NewEvent): void {
    const id = this.lastEventId(executionArn) + 1;
    this.lastEventIds.set(executionArn, id);
    this.store.append(executionArn, { k: "event", event: numbered(event, id, Date.now() / 1000) });
  }

  private lastEventId(executionArn: string): number {
    let id = this.lastEventIds.get(executionArn);
    if (id === undefined) {
      try {
        id = this.history(executionArn).at(-1)?.id ?? 0;
      } catch {
        id = 0;
      }
    }
    return id;
  }
}
