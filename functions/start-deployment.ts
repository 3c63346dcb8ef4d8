import { appStore } from "../adapters/app-store";
import { deploymentWaits } from "../adapters/deployment-waits";
import { deployments } from "../adapters/deployments";
import { queuePorts } from "../adapters/queue-ports";
import { startDeployment } from "../usecases/deploy";
import { taskHandler } from "./task";

/**
 * Pipeline task of a deploy step (`.waitForTaskToken`): deploys the run's bundle to the step's
 * deployment group through CodeDeploy. Input: `{ runId, index, attempt, taskToken }`.
 */
export const handler = taskHandler((input: unknown) =>
  startDeployment(
    { ...queuePorts(), apps: appStore(), deployments: deployments(), waits: deploymentWaits() },
    input,
  ),
);
