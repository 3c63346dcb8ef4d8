import { z } from "zod";
import { AwsServiceError, type Operations } from "../aws-json-server";
import type { LocalStepFunctions } from "../stepfunctions";
import type { HistoryEvent } from "./history";
import type { ExecutionSummary } from "./store";

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[^:]+:[^:]+:stateMachine:[^:]+$/;
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[^:]+:[^:]+:execution:[^:]+:[^:]+$/;

const stateMachineArn = z.string().min(1).max(256);
const executionArn = z.string().min(1).max(256);
const taskToken = z.string().min(1).max(2048);
const maxResults = z.number().int().min(0).max(1000).optional();
const nextToken = z.string().min(1).max(1024).optional();

const schemas = {
  DescribeStateMachine: z.object({ stateMachineArn }),
  DescribeStateMachineForExecution: z.object({ executionArn }),
  StartExecution: z.object({
    stateMachineArn,
    name: z.string().optional(),
    input: z.string().optional(),
  }),
  DescribeExecution: z.object({ executionArn }),
  GetExecutionHistory: z.object({
    executionArn,
    maxResults,
    nextToken,
    reverseOrder: z.boolean().optional(),
    includeExecutionData: z.boolean().optional(),
  }),
  ListExecutions: z.object({
    stateMachineArn: stateMachineArn.optional(),
    statusFilter: z.enum(["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]).optional(),
    redriveFilter: z.enum(["REDRIVEN", "NOT_REDRIVEN"]).optional(),
    maxResults,
    nextToken,
  }),
  ListStateMachines: z.object({ maxResults, nextToken }),
  StopExecution: z.object({
    executionArn,
    error: z.string().max(256).optional(),
    cause: z.string().max(32_768).optional(),
  }),
  RedriveExecution: z.object({ executionArn, clientToken: z.string().optional() }),
  SendTaskSuccess: z.object({ taskToken, output: z.string().max(256 * 1024) }),
  SendTaskFailure: z.object({
    taskToken,
    error: z.string().max(256).optional(),
    cause: z.string().max(32_768).optional(),
  }),
  SendTaskHeartbeat: z.object({ taskToken }),
};

/** The SFN API over the engine: inputs checked as AWS checks them, answers shaped as AWS's. */
export function sfnOperations(engine: LocalStepFunctions): Operations {
  const ops: { [Op in keyof typeof schemas]: (input: z.infer<(typeof schemas)[Op]>) => unknown } = {
    ListStateMachines: (input) =>
      page(
        engine.listMachines().map((m) => ({
          stateMachineArn: m.arn,
          name: m.name,
          type: "STANDARD",
          creationDate: m.createdAt,
        })),
        input,
        "stateMachines",
      ),
    DescribeStateMachine: (input) => describeMachine(engine, machineArn(input.stateMachineArn)),
    DescribeStateMachineForExecution: (input) => {
      const e = engine.execution(execArn(input.executionArn));
      const { stateMachineArn: arn, ...rest } = describeMachine(engine, e.stateMachineArn);
      return {
        stateMachineArn: arn,
        name: rest.name,
        definition: rest.definition,
        roleArn: rest.roleArn,
        updateDate: rest.creationDate,
      };
    },
    StartExecution: (input) =>
      engine.start({
        stateMachineArn: machineArn(input.stateMachineArn),
        name: input.name,
        input: input.input,
      }),
    DescribeExecution: (input) => {
      const e = engine.execution(execArn(input.executionArn));
      const notRedrivable = engine.notRedrivable(e);
      return {
        ...listItem(e),
        input: e.input,
        inputDetails: { included: true },
        ...(e.output !== undefined ? { output: e.output, outputDetails: { included: true } } : {}),
        ...(e.error !== undefined ? { error: e.error } : {}),
        ...(e.cause !== undefined ? { cause: e.cause } : {}),
        redriveStatus: notRedrivable ? "NOT_REDRIVABLE" : "REDRIVABLE",
        ...(notRedrivable ? { redriveStatusReason: notRedrivable } : {}),
      };
    },
    GetExecutionHistory: (input) => {
      const history = engine.history(execArn(input.executionArn));
      const ordered = input.reverseOrder ? history.reverse() : history;
      const events = input.includeExecutionData === false ? ordered.map(withoutData) : ordered;
      return page(events, input, "events");
    },
    ListExecutions: (input) => {
      if (!input.stateMachineArn) {
        throw new AwsServiceError(
          "ValidationException",
          "Must provide a StateMachine ARN or MapRun ARN",
        );
      }
      const executions = engine
        .executionsOf(machineArn(input.stateMachineArn))
        .filter((e) => !input.statusFilter || e.status === input.statusFilter)
        .filter(
          (e) =>
            !input.redriveFilter || (input.redriveFilter === "REDRIVEN") === e.redriveCount > 0,
        )
        .sort((a, b) => b.startDate - a.startDate)
        .map(listItem);
      return page(executions, input, "executions");
    },
    StopExecution: (input) =>
      engine.stopExecution(execArn(input.executionArn), input.error, input.cause),
    RedriveExecution: (input) => engine.redrive(execArn(input.executionArn)),
    SendTaskSuccess: (input) => {
      engine.sendTaskSuccess(input.taskToken, input.output);
      return {};
    },
    SendTaskFailure: (input) => {
      engine.sendTaskFailure(input.taskToken, input.error, input.cause);
      return {};
    },
    SendTaskHeartbeat: (input) => {
      engine.sendTaskHeartbeat(input.taskToken);
      return {};
    },
  };
  return Object.fromEntries(
    Object.entries(ops).map(([name, op]) => [
      name,
      async (input: Record<string, unknown>) => {
        const schema = schemas[name as keyof typeof schemas];
        const parsed = schema.safeParse(input);
        if (!parsed.success) throw validationError(parsed.error, input);
        return (op as (input: unknown) => unknown)(parsed.data);
      },
    ]),
  );
}

function describeMachine(engine: LocalStepFunctions, arn: string) {
  const m = engine.machine(arn);
  return {
    stateMachineArn: m.arn,
    name: m.name,
    status: "ACTIVE",
    definition: JSON.stringify(m.definition),
    roleArn: m.roleArn,
    type: "STANDARD",
    creationDate: m.createdAt,
  };
}

function listItem(e: ExecutionSummary) {
  return {
    executionArn: e.executionArn,
    stateMachineArn: e.stateMachineArn,
    name: e.name,
    status: e.status,
    startDate: e.startDate,
    ...(e.stopDate !== undefined ? { stopDate: e.stopDate } : {}),
    redriveCount: e.redriveCount,
    ...(e.redriveDate !== undefined ? { redriveDate: e.redriveDate } : {}),
  };
}

/** One page of `items` under `key`, with AWS's default page size of 100. */
function page<T>(
  items: T[],
  input: { maxResults?: number | undefined; nextToken?: string | undefined },
  key: string,
): Record<string, unknown> {
  let start = 0;
  if (input.nextToken !== undefined) {
    start = Number(Buffer.from(input.nextToken, "base64url").toString("utf8"));
    if (!Number.isInteger(start) || start < 0) {
      throw new AwsServiceError("InvalidToken", `Invalid Token: '${input.nextToken}'`);
    }
  }
  const size = input.maxResults || 100;
  const end = start + size;
  return {
    [key]: items.slice(start, end),
    ...(end < items.length ? { nextToken: Buffer.from(String(end)).toString("base64url") } : {}),
  };
}

/** A history event without its input and output, as `includeExecutionData: false` asks. */
function withoutData(event: HistoryEvent): HistoryEvent {
  return Object.fromEntries(
    Object.entries(event).map(([key, value]) => {
      if (!key.endsWith("EventDetails") || !value || typeof value !== "object") return [key, value];
      const { input: _i, output: _o, parameters: _p, ...rest } = value as Record<string, unknown>;
      return [key, rest];
    }),
  ) as HistoryEvent;
}

function machineArn(arn: string): string {
  if (!STATE_MACHINE_ARN.test(arn))
    throw new AwsServiceError("InvalidArn", `Invalid Arn: '${arn}'`);
  return arn;
}

function execArn(arn: string): string {
  if (!EXECUTION_ARN.test(arn)) throw new AwsServiceError("InvalidArn", `Invalid Arn: '${arn}'`);
  return arn;
}

/** AWS's wording: "1 validation error detected: Value null at 'executionArn' failed to …". */
function validationError(error: z.ZodError, input: Record<string, unknown>): AwsServiceError {
  const problems = error.issues.map((issue) => {
    const field = String(issue.path[0] ?? "input");
    const constraint =
      input[field] === undefined || input[field] === null
        ? "Member must not be null"
        : issue.message;
    return `Value ${input[field] === undefined ? "null" : JSON.stringify(input[field])} at '${field}' failed to satisfy constraint: ${constraint}`;
  });
  return new AwsServiceError(
    "ValidationException",
    `${problems.length} validation error${problems.length === 1 ? "" : "s"} detected: ${problems.join("; ")}`,
  );
}
