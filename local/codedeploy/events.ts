import { DEFAULT_BUS, type PutEventsEntry } from "../eventbridge";
import type { Deployment } from "./store";

export type DeploymentState = "START" | "SUCCESS" | "FAILURE" | "STOP";
export type InstanceState = "START" | "SUCCESS" | "FAILURE";

interface Where {
  region: string;
  accountId: string;
}

const arns = ({ region, accountId }: Where, deployment: Deployment) => {
  const prefix = `arn:aws:codedeploy:${region}:${accountId}`;
  return {
    application: `${prefix}:application:${deployment.applicationName}`,
    group: `${prefix}:deploymentgroup:${deployment.applicationName}/${deployment.deploymentGroupName}`,
    instance: (name: string) => `${prefix}:instance/${name}`,
  };
};

/** "CodeDeploy Deployment State-change Notification", as CodeDeploy puts it on the default bus. */
export function deploymentStateEntry(
  where: Where,
  deployment: Deployment,
  state: DeploymentState,
): PutEventsEntry {
  const arn = arns(where, deployment);
  return {
    Source: "aws.codedeploy",
    DetailType: "CodeDeploy Deployment State-change Notification",
    EventBusName: DEFAULT_BUS,
    Resources: [arn.application, arn.group],
    Detail: JSON.stringify({
      region: where.region,
      deploymentId: deployment.deploymentId,
      instanceGroupId: deployment.deploymentGroupId,
      deploymentGroup: deployment.deploymentGroupName,
      application: deployment.applicationName,
      state,
    }),
  };
}

/** "CodeDeploy Instance State-change Notification", one per host of a deployment. */
export function instanceStateEntry(
  where: Where,
  deployment: Deployment,
  instanceName: string,
  state: InstanceState,
): PutEventsEntry {
  const arn = arns(where, deployment);
  return {
    Source: "aws.codedeploy",
    DetailType: "CodeDeploy Instance State-change Notification",
    EventBusName: DEFAULT_BUS,
    Resources: [arn.instance(instanceName), arn.group, arn.application],
    Detail: JSON.stringify({
      instanceId: instanceName,
      region: where.region,
      state,
      application: deployment.applicationName,
      deploymentId: deployment.deploymentId,
      instanceGroupId: deployment.deploymentGroupId,
      deploymentGroup: deployment.deploymentGroupName,
    }),
  };
}
