import { systemClock } from "../domain/ports";
import type { RecordRunPorts } from "../usecases/start-run";
import { stackConfig } from "./config";
import { executionArnOf } from "./execution-arn";
import { runStore } from "./run-store";

/**
 * What an intake records a run with: the table alone. The run's execution ARN is only named
 * here, so an intake loads no Step Functions client; admitRuns starts the execution.
 */
export function intakePorts(): RecordRunPorts {
  const { pipelineArn } = stackConfig();
  return {
    runs: runStore(),
    executions: { arnOf: (runId) => executionArnOf(pipelineArn, runId) },
    clock: systemClock,
  };
}
