import type { DeployPorts } from "../usecases/deploy";
import { alarms, alarmWatches } from "./alarms";
import { appStore } from "./app-store";
import { deploymentWaits } from "./deployment-waits";
import { deployments } from "./deployments";
import { queuePorts } from "./queue-ports";

/** What deploy steps, bakes and the events that resume them work with. */
export function deployPorts(): DeployPorts {
  return {
    ...queuePorts(),
    apps: appStore(),
    deployments: deployments(),
    waits: deploymentWaits(),
    alarms: alarms(),
    watches: alarmWatches(),
  };
}
