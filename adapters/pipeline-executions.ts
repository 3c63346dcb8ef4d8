import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import type { ExecutionStatus, PipelineEngine } from "../domain/ports";

/** Starts pipeline executions; the run id is the execution name, so a run starts at most once. */
export class PipelineExecutions implements PipelineEngine {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(runId: string, input: unknown): Promise<string> {
    try {
      const { executionArn } = await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name: runId,
          input: JSON.stringify(input),
        }),
      );
      if (!executionArn)
        throw new Error(`StartExecution for run ${runId} returned no executionArn`);
      return executionArn;
    } catch (err) {
      if (err instanceof ExecutionAlreadyExists) {
        return `${this.stateMachineArn.replace(":stateMachine:", ":execution:")}:${runId}`;
      }
      throw err;
    }
  }

  async status(executionArn: string): Promise<ExecutionStatus> {
    try {
      const { status } = await this.client.send(new DescribeExecutionCommand({ executionArn }));
      if (!status) throw new Error(`DescribeExecution of ${executionArn} returned no status`);
      return status;
    } catch (err) {
      if (err instanceof ExecutionDoesNotExist) return "GONE";
      throw err;
    }
  }
}
