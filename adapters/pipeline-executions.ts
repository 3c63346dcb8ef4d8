import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ExecutionNotRedrivable,
  RedriveExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from "@aws-sdk/client-sfn";
import { ConflictError } from "../domain/errors";
import type { ExecutionEnd, ExecutionStatus, PipelineEngine } from "../domain/ports";
import { sfn } from "./clients/sfn";
import { stackConfig } from "./config";
import { executionArnOf } from "./execution-arn";

/** The pipeline's executions; the run id is the execution name, so a run starts at most once. */
export class PipelineExecutions implements PipelineEngine {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  arnOf(runId: string): string {
    return executionArnOf(this.stateMachineArn, runId);
  }

  async start(runId: string, input: unknown): Promise<string> {
    try {
      const { executionArn } = await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name: runId,
          input: JSON.stringify(input),
        }),
      );
      return executionArn ?? this.arnOf(runId);
    } catch (err) {
      if (err instanceof ExecutionAlreadyExists) return this.arnOf(runId);
      throw err;
    }
  }

  async status(executionArn: string): Promise<ExecutionStatus> {
    return (await this.describe(executionArn)).status;
  }

  async describe(executionArn: string): Promise<ExecutionEnd> {
    try {
      const { status, error, cause } = await this.client.send(
        new DescribeExecutionCommand({ executionArn }),
      );
      if (!status) throw new Error(`DescribeExecution of ${executionArn} returned no status`);
      return { status, ...(error ? { error } : {}), ...(cause ? { cause } : {}) };
    } catch (err) {
      if (err instanceof ExecutionDoesNotExist) return { status: "GONE" };
      throw err;
    }
  }

  async stop(executionArn: string, error: string, cause: string): Promise<void> {
    await this.client.send(new StopExecutionCommand({ executionArn, error, cause }));
  }

  async redrive(executionArn: string): Promise<void> {
    try {
      await this.client.send(new RedriveExecutionCommand({ executionArn }));
    } catch (err) {
      if (err instanceof ExecutionNotRedrivable || err instanceof ExecutionDoesNotExist) {
        throw new ConflictError(`its execution cannot go on: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }

  async succeedTask(token: string, output: unknown): Promise<void> {
    await this.callback(() =>
      this.client.send(
        new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }),
      ),
    );
  }

  async failTask(token: string, error: string, cause: string): Promise<void> {
    await this.callback(() =>
      this.client.send(new SendTaskFailureCommand({ taskToken: token, error, cause })),
    );
  }

  private async callback(send: () => Promise<unknown>): Promise<void> {
    try {
      await send();
    } catch (err) {
      if (err instanceof TaskDoesNotExist || err instanceof TaskTimedOut) {
        throw new ConflictError("the step no longer waits for an answer", { cause: err });
      }
      throw err;
    }
  }
}

/** The stack's pipeline's executions, over the container's client. */
export function pipelineExecutions(): PipelineExecutions {
  return new PipelineExecutions(sfn(), stackConfig().pipelineArn);
}
