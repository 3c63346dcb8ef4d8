import * as z from "../domain/zod";
import type { LockPorts } from "../usecases/group-locks";
import type { HoldPorts } from "../usecases/holds";
import { alarms, alarmWatches } from "./alarms";
import { appStore } from "./app-store";
import { deploymentWaits } from "./deployment-waits";
import { deployments } from "./deployments";
import { freezes, groupLocks, holdWatches } from "./holds";
import { queuePorts } from "./queue-ports";

const EnvSchema = z.object({
  /** How long a deployment group's lease lasts unless renewed (tests shorten it). */
  SLUICE_LOCK_LEASE_SECONDS: z._default(z.coerce.number().check(z.int(), z.positive()), 300),
});

/** What deploy steps, holds, bakes and the events that resume them work with. */
export function deployPorts(): HoldPorts {
  return {
    ...queuePorts(),
    apps: appStore(),
    deployments: deployments(),
    waits: deploymentWaits(),
    alarms: alarms(),
    watches: alarmWatches(),
    freezes: freezes(),
    holds: holdWatches(),
    ...lockPorts(),
  };
}

/** Deployment groups' leases, as NextStep and the deploy tasks take and let go of them. */
export function lockPorts(): Omit<LockPorts, "clock"> {
  return {
    locks: groupLocks(),
    leaseSeconds: EnvSchema.parse(process.env).SLUICE_LOCK_LEASE_SECONDS,
  };
}
