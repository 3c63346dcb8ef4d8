import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { DEFAULT_DEPLOYMENT_CONFIG } from "./configs";
import type { LocalCodeDeploy } from "./local-codedeploy";

export const FLEET_FILE = "local-fleet.yml";
/** The tag that puts a fleet-file host in its group. */
export const FLEET_TAG = "local-fleet";

const GroupSchema = z.strictObject({
  hosts: z.number().int().min(0).max(100),
  deploymentConfig: z.string().default(DEFAULT_DEPLOYMENT_CONFIG),
  autoRollback: z
    .array(z.enum(["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST", "DEPLOYMENT_STOP_ON_ALARM"]))
    .optional(),
  /** CloudWatch alarm names: one going to ALARM stops the group's deployment. */
  alarms: z.array(z.string().min(1)).max(10).optional(),
});

const NameSchema = z.string().regex(/^[A-Za-z0-9._-]{1,60}$/, "letters, digits, '.', '_' and '-'");

export const FleetFileSchema = z.strictObject({
  deploymentConfigs: z
    .record(
      NameSchema,
      z.strictObject({
        type: z.enum(["HOST_COUNT", "FLEET_PERCENT"]),
        value: z.number().int().min(0),
      }),
    )
    .default({}),
  applications: z.record(
    NameSchema,
    z.strictObject({ groups: z.record(NameSchema, GroupSchema).default({}) }),
  ),
});

export type FleetFile = z.infer<typeof FleetFileSchema>;

/** The fleet file at `file`, or undefined when there is none; a bad one is an error naming its paths. */
export async function readFleetFile(file: string): Promise<FleetFile | undefined> {
  const text = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });
  if (text === undefined) return undefined;
  const parsed = FleetFileSchema.safeParse(parseYaml(text));
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.join(".") || "(top level)"}: ${i.message}`,
    );
    throw new Error(`${file} is invalid: ${problems.join("; ")}`);
  }
  return parsed.data;
}

/**
 * Makes the stand-in hold what the fleet file declares, through the same objects the API makes:
 * each application, each group with its config and auto-rollback, and its hosts, on-premises
 * instances named `<application>-<group>-<n>` tagged `local-fleet=<application>/<group>`.
 * Applied at every start; what exists is kept (hosts keep their revision and port), a group
 * with fewer hosts than before lets the extra ones go (untagged, their folders kept).
 */
export async function applyFleetFile(codeDeploy: LocalCodeDeploy, fleet: FleetFile): Promise<void> {
  for (const [name, minimumHealthyHosts] of Object.entries(fleet.deploymentConfigs)) {
    const known = codeDeploy.configs().find((c) => c.deploymentConfigName === name);
    if (!known) await codeDeploy.createDeploymentConfig(minimumHealthyHosts, name);
  }
  for (const [applicationName, application] of Object.entries(fleet.applications)) {
    if (!codeDeploy.allApplications().some((a) => a.applicationName === applicationName)) {
      await codeDeploy.createApplication(applicationName);
    }
    for (const [groupName, group] of Object.entries(application.groups)) {
      const tagValue = `${applicationName}/${groupName}`;
      const existing = codeDeploy
        .allGroups()
        .find((g) => g.applicationName === applicationName && g.deploymentGroupName === groupName);
      await codeDeploy.putDeploymentGroup(
        {
          applicationName,
          deploymentGroupName: groupName,
          deploymentConfigName: group.deploymentConfig,
          onPremisesInstanceTagFilters: [
            { Key: FLEET_TAG, Value: tagValue, Type: "KEY_AND_VALUE" },
          ],
          ...(group.autoRollback
            ? {
                autoRollbackConfiguration: {
                  enabled: group.autoRollback.length > 0,
                  events: group.autoRollback,
                },
              }
            : {}),
          ...(group.alarms
            ? {
                alarmConfiguration: {
                  enabled: group.alarms.length > 0,
                  alarms: group.alarms.map((name) => ({ name })),
                },
              }
            : {}),
        },
        existing,
      );
      const wanted = Array.from(
        { length: group.hosts },
        (_, i) => `${applicationName}-${groupName}-${i + 1}`,
      );
      for (const name of wanted) {
        if (!codeDeploy.allInstances().some((i) => i.instanceName === name)) {
          await codeDeploy.registerInstance(name, {});
        }
      }
      await codeDeploy.tagInstances(wanted, [{ Key: FLEET_TAG, Value: tagValue }]);
      const extra = codeDeploy
        .allInstances()
        .filter((i) => i.tags.some((t) => t.Key === FLEET_TAG && t.Value === tagValue))
        .map((i) => i.instanceName)
        .filter((name) => !wanted.includes(name));
      if (extra.length) await codeDeploy.tagInstances(extra, [{ Key: FLEET_TAG }], true);
    }
  }
}
