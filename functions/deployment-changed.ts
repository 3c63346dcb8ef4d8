import middy from "@middy/core";
import { deploymentWaits } from "../adapters/deployment-waits";
import { deployments } from "../adapters/deployments";
import { pipelineExecutions } from "../adapters/pipeline-executions";
import * as z from "../domain/zod";
import { logger } from "../http/logger";
import { deploymentChanged } from "../usecases/deploy";

const StateChangeSchema = z.object({
  detail: z.object({
    deploymentId: z.string(),
    state: z.string(),
    deploymentGroup: z.optional(z.string()),
  }),
});

/**
 * EventBridge rule target for "CodeDeploy Deployment State-change Notification": resumes the
 * run step that waits on the deployment once it has ended.
 */
export const handler = middy(async (event: unknown) => {
  const { detail } = StateChangeSchema.parse(event);
  logger.info("deployment changed", { deploymentId: detail.deploymentId, state: detail.state });
  await deploymentChanged(
    { deployments: deployments(), waits: deploymentWaits(), executions: pipelineExecutions() },
    detail.deploymentId,
    detail,
  );
});
