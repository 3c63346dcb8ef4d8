import { deployPorts } from "../adapters/deploy-ports";
import { startDeployment } from "../usecases/deploy";
import { taskHandler } from "./task";

/**
 * Pipeline task of a deploy step (`.waitForTaskToken`): deploys the run's bundle to the step's
 * deployment group through CodeDeploy once nothing holds the wave (held, it fails as
 * Sluice.WaveHeld, and CheckWave holds it). Input: `{ runId, index, attempt, taskToken }`.
 */
export const handler = taskHandler((input: unknown) => startDeployment(deployPorts(), input));
