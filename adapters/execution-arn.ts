/** The ARN of the pipeline execution named after a run: known before, or without, starting it. */
export function executionArnOf(stateMachineArn: string, runId: string): string {
  return `${stateMachineArn.replace(":stateMachine:", ":execution:")}:${runId}`;
}
