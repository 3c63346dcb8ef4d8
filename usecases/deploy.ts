import { BadRequestError, ConflictError, NotFoundError } from "../domain/errors";
import type { AppRepository, Deployments, DeploymentWaits } from "../domain/ports";
import type { DeploymentResult, RunView } from "../domain/run";
import { openStep } from "../domain/steps";
import { formatIssues } from "../domain/validation";
import { ApprovalTaskInputSchema } from "./approval";
import { reopenIfRedriven } from "./run-control";
import type { QueuePorts } from "./run-queue";

export interface DeployPorts extends QueuePorts {
  apps: AppRepository;
  deployments: Deployments;
  waits: DeploymentWaits;
}

/** CodeDeploy's statuses a deployment ends in. */
const ENDED = new Set(["Succeeded", "Failed", "Stopped"]);

/**
 * A deploy step's task (`.waitForTaskToken`): creates the CodeDeploy deployment of the run's
 * bundle to the step's group, once per attempt (run again, it finds the one it made), and keeps
 * the token its state-change event resumes. A deployment that ended before the token was kept
 * is finished here, so its event cannot be missed.
 */
export async function startDeployment(ports: DeployPorts, input: unknown): Promise<void> {
  const parsed = ApprovalTaskInputSchema.safeParse(input);
  if (!parsed.success) throw new BadRequestError(formatIssues("deploy task", parsed.error));
  const { runId, index, taskToken } = parsed.data;
  const stored = await ports.runs.get(runId);
  if (!stored) throw new NotFoundError(`run ${runId} does not exist`);
  const run = await reopenIfRedriven(ports, stored);
  const step = run.plan.steps[index];
  const record = openStep(run);
  if (run.cursor !== index || step?.kind !== "deploy" || !record) {
    throw new ConflictError(`run ${runId} is not deploying step ${index}`);
  }
  if (run.revision.type !== "bundle") {
    throw new ConflictError(`run ${runId} has no bundle to deploy`);
  }
  let deploymentId = record.deploymentId;
  if (!deploymentId) {
    deploymentId = await ports.deployments.create({
      application: step.application,
      deploymentGroup: step.deploymentGroup,
      deploymentConfig: step.deploymentConfig,
      description: `Sluice run ${run.id} (${run.app}), step ${step.id}, attempt ${run.attempt}`,
      revision: {
        bucket: run.revision.bucket ?? "",
        key: run.revision.key,
        ...(run.revision.versionId ? { versionId: run.revision.versionId } : {}),
        ...(run.revision.etag ? { etag: run.revision.etag } : {}),
      },
    });
    const at = ports.clock.now().toISOString();
    await ports.runs.apply(
      runId,
      {
        expect: { status: ["RUNNING"], cursor: index, attempt: run.attempt },
        set: {},
        steps: [{ ...record, deploymentId, message: `deployment ${deploymentId} in progress` }],
        events: [],
      },
      at,
    );
  }
  await ports.waits.put({ deploymentId, runId, index, attempt: run.attempt, token: taskToken });
  await deploymentChanged(ports, deploymentId);
}

/**
 * CodeDeploy says a deployment changed state ("CodeDeploy Deployment State-change
 * Notification"): once it has ended, the step waiting on it goes on (succeeded) or fails
 * (Sluice.DeploymentFailed), with every host's result.
 */
export async function deploymentChanged(
  ports: Pick<DeployPorts, "deployments" | "waits" | "executions">,
  deploymentId: string,
): Promise<void> {
  const wait = await ports.waits.get(deploymentId);
  if (!wait) return;
  const state = await ports.deployments.state(deploymentId);
  if (!ENDED.has(state.status)) return;
  const result: DeploymentResult = {
    deploymentId,
    deploymentGroup: state.deploymentGroup,
    status: state.status,
    hosts: await ports.deployments.hosts(deploymentId),
  };
  try {
    if (state.status === "Succeeded") {
      await ports.executions.succeedTask(wait.token, result);
    } else {
      const failed = result.hosts.filter((h) => h.failure).map((h) => `${h.id} (${h.failure})`);
      await ports.executions.failTask(
        wait.token,
        "Sluice.DeploymentFailed",
        `deployment ${deploymentId} to ${state.deploymentGroup} ${state.status.toLowerCase()}${state.error ? `: ${state.error}` : ""}${failed.length ? `; failed hosts: ${failed.join(", ")}` : ""}`,
      );
    }
  } catch (err) {
    // Its step no longer waits (answered already, timed out, stopped): nothing to resume.
    if (!(err instanceof ConflictError)) throw err;
  }
}
