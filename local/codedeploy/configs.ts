import type { MinimumHealthyHosts } from "./rules";

export interface DeploymentConfig {
  readonly deploymentConfigName: string;
  readonly deploymentConfigId: string;
  readonly minimumHealthyHosts: MinimumHealthyHosts;
  readonly computePlatform: "Server";
  /** Epoch seconds. */
  readonly createTime: number;
}

export const DEFAULT_DEPLOYMENT_CONFIG = "CodeDeployDefault.OneAtATime";

/** CodeDeploy's own EC2/on-premises configs, as GetDeploymentConfig answers them. */
export const BUILT_IN_CONFIGS: readonly DeploymentConfig[] = [
  builtIn("CodeDeployDefault.OneAtATime", "f6a2c2f6-0000-4000-8000-000000000001", {
    type: "MOST_CONCURRENCY",
    value: 1,
  }),
  builtIn("CodeDeployDefault.HalfAtATime", "f6a2c2f6-0000-4000-8000-000000000002", {
    type: "FLEET_PERCENT",
    value: 50,
  }),
  builtIn("CodeDeployDefault.AllAtOnce", "f6a2c2f6-0000-4000-8000-000000000003", {
    type: "HOST_COUNT",
    value: 0,
  }),
];

function builtIn(
  name: string,
  id: string,
  minimumHealthyHosts: MinimumHealthyHosts,
): DeploymentConfig {
  return {
    deploymentConfigName: name,
    deploymentConfigId: id,
    minimumHealthyHosts,
    computePlatform: "Server",
    createTime: 1_420_070_400,
  };
}
