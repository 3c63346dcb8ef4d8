import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";

/** Starts pipeline executions; the run id is the execution name, so a run starts at most once. */
export class PipelineExecutions {
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
}
