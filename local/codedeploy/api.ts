import { z } from "zod";
import { AwsServiceError, type Operations } from "../aws-json-server";
import type { LocalCodeDeploy } from "./local-codedeploy";
import { CreateDeploymentSchema, GroupSettingsSchema, TagFilterSchema } from "./requests";
import type { Deployment, DeploymentGroup, DeploymentTarget, OnPremisesInstance } from "./store";
import { matchesAny } from "./tag-filters";

const Name = z.string().min(1).max(100);
const TagsSchema = z.array(z.object({ Key: z.string().min(1), Value: z.string().optional() }));
const MinimumHealthyHostsSchema = z.object({
  type: z.enum(["HOST_COUNT", "FLEET_PERCENT"]),
  value: z.number().int().min(0),
});

/** Reads a call's input by its schema; a problem is CodeDeploy's ValidationException-like error. */
function read<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`);
    throw new AwsServiceError("InvalidInputException", problems.join("; "));
  }
  return parsed.data;
}

/**
 * CodeDeploy's API over the stand-in: the calls Sluice and a person with `aws deploy` make.
 * Each answers once what it tells of is on disk, so a crash never takes back what a caller saw.
 */
export function codeDeployOperations(codeDeploy: LocalCodeDeploy): Operations {
  const operations = allOperations(codeDeploy);
  return Object.fromEntries(
    Object.entries(operations).map(([name, operation]) => [
      name,
      async (input: Record<string, unknown>) => {
        const answer = await operation(input);
        await codeDeploy.flushed();
        return answer;
      },
    ]),
  );
}

function allOperations(codeDeploy: LocalCodeDeploy): Operations {
  return {
    CreateApplication: async (input) => {
      const { applicationName } = read(
        z.object({ applicationName: Name, computePlatform: z.literal("Server").optional() }),
        input,
      );
      return { applicationId: await codeDeploy.createApplication(applicationName) };
    },
    GetApplication: async (input) => {
      const { applicationName } = read(z.object({ applicationName: Name }), input);
      return { application: codeDeploy.application(applicationName) };
    },
    BatchGetApplications: async (input) => {
      const { applicationNames } = read(z.object({ applicationNames: z.array(Name) }), input);
      return { applicationsInfo: applicationNames.map((name) => codeDeploy.application(name)) };
    },
    ListApplications: async () => ({
      applications: codeDeploy
        .allApplications()
        .map((a) => a.applicationName)
        .sort(),
    }),
    CreateDeploymentGroup: async (input) => {
      const request = read(
        GroupSettingsSchema.extend({ applicationName: Name, deploymentGroupName: Name }),
        input,
      );
      if (
        codeDeploy
          .allGroups()
          .some(
            (g) =>
              g.applicationName === request.applicationName &&
              g.deploymentGroupName === request.deploymentGroupName,
          )
      ) {
        throw new AwsServiceError(
          "DeploymentGroupAlreadyExistsException",
          `Deployment Group ${request.deploymentGroupName} already exists for application ${request.applicationName}`,
        );
      }
      const group = await codeDeploy.putDeploymentGroup(request);
      return { deploymentGroupId: group.deploymentGroupId };
    },
    GetDeploymentGroup: async (input) => {
      const { applicationName, deploymentGroupName } = read(
        z.object({ applicationName: Name, deploymentGroupName: Name }),
        input,
      );
      return {
        deploymentGroupInfo: groupInfo(codeDeploy.group(applicationName, deploymentGroupName)),
      };
    },
    BatchGetDeploymentGroups: async (input) => {
      const { applicationName, deploymentGroupNames } = read(
        z.object({ applicationName: Name, deploymentGroupNames: z.array(Name) }),
        input,
      );
      return {
        deploymentGroupsInfo: deploymentGroupNames.map((name) =>
          groupInfo(codeDeploy.group(applicationName, name)),
        ),
      };
    },
    UpdateDeploymentGroup: async (input) => {
      const request = read(
        GroupSettingsSchema.extend({
          applicationName: Name,
          currentDeploymentGroupName: Name,
          newDeploymentGroupName: Name.optional(),
        }),
        input,
      );
      const existing = codeDeploy.group(
        request.applicationName,
        request.currentDeploymentGroupName,
      );
      await codeDeploy.putDeploymentGroup(
        {
          ...request,
          deploymentGroupName: request.newDeploymentGroupName ?? request.currentDeploymentGroupName,
        },
        existing,
      );
      return { hooksNotCleanedUp: [] };
    },
    ListDeploymentGroups: async (input) => {
      const { applicationName } = read(z.object({ applicationName: Name }), input);
      codeDeploy.application(applicationName);
      return {
        applicationName,
        deploymentGroups: codeDeploy
          .allGroups()
          .filter((g) => g.applicationName === applicationName)
          .map((g) => g.deploymentGroupName)
          .sort(),
      };
    },
    RegisterOnPremisesInstance: async (input) => {
      const { instanceName, iamUserArn, iamSessionArn } = read(
        z.object({
          instanceName: Name,
          iamUserArn: z.string().optional(),
          iamSessionArn: z.string().optional(),
        }),
        input,
      );
      await codeDeploy.registerInstance(instanceName, {
        ...(iamUserArn ? { iamUserArn } : {}),
        ...(iamSessionArn ? { iamSessionArn } : {}),
      });
      return {};
    },
    AddTagsToOnPremisesInstances: (input) => retag(codeDeploy, input),
    RemoveTagsFromOnPremisesInstances: (input) => retag(codeDeploy, input, { remove: true }),
    ListOnPremisesInstances: async (input) => {
      const { registrationStatus, tagFilters } = read(
        z.object({
          registrationStatus: z.enum(["Registered", "Deregistered"]).optional(),
          tagFilters: z.array(TagFilterSchema).optional(),
        }),
        input,
      );
      const instances = registrationStatus === "Deregistered" ? [] : codeDeploy.allInstances();
      return {
        instanceNames: instances
          .filter((i) => !tagFilters?.length || matchesAny(i.tags, tagFilters))
          .map((i) => i.instanceName)
          .sort(),
      };
    },
    GetOnPremisesInstance: async (input) => {
      const { instanceName } = read(z.object({ instanceName: Name }), input);
      return { instanceInfo: instanceInfo(codeDeploy.instance(instanceName)) };
    },
    BatchGetOnPremisesInstances: async (input) => {
      const { instanceNames } = read(z.object({ instanceNames: z.array(Name) }), input);
      return {
        instanceInfos: instanceNames.map((name) => instanceInfo(codeDeploy.instance(name))),
      };
    },
    GetDeploymentConfig: async (input) => {
      const { deploymentConfigName } = read(z.object({ deploymentConfigName: Name }), input);
      return { deploymentConfigInfo: codeDeploy.config(deploymentConfigName) };
    },
    ListDeploymentConfigs: async () => ({
      deploymentConfigsList: codeDeploy.configs().map((c) => c.deploymentConfigName),
    }),
    CreateDeploymentConfig: async (input) => {
      const parsed = z
        .object({
          deploymentConfigName: Name,
          minimumHealthyHosts: MinimumHealthyHostsSchema,
          computePlatform: z.literal("Server").optional(),
        })
        .safeParse(input);
      if (!parsed.success) {
        throw new AwsServiceError(
          "InvalidMinimumHealthyHostValueException",
          "minimumHealthyHosts must be { type: HOST_COUNT | FLEET_PERCENT, value: a whole number of hosts, or a percentage from 0 to 99 }",
        );
      }
      const { deploymentConfigName, minimumHealthyHosts } = parsed.data;
      if (minimumHealthyHosts.type === "FLEET_PERCENT" && minimumHealthyHosts.value > 99) {
        throw new AwsServiceError(
          "InvalidMinimumHealthyHostValueException",
          "The minimum healthy instance value for FLEET_PERCENT must be from 0 to 99",
        );
      }
      return {
        deploymentConfigId: await codeDeploy.createDeploymentConfig(
          minimumHealthyHosts,
          deploymentConfigName,
        ),
      };
    },
    CreateDeployment: async (input) => ({
      deploymentId: await codeDeploy.createDeployment(read(CreateDeploymentSchema, input)),
    }),
    GetDeployment: async (input) => {
      const { deploymentId } = read(z.object({ deploymentId: Name }), input);
      return { deploymentInfo: deploymentInfo(codeDeploy.deployment(deploymentId)) };
    },
    BatchGetDeployments: async (input) => {
      const { deploymentIds } = read(z.object({ deploymentIds: z.array(Name) }), input);
      return {
        deploymentsInfo: deploymentIds.flatMap((id) => {
          const found = codeDeploy.allDeployments().find((d) => d.deploymentId === id);
          return found ? [deploymentInfo(found)] : [];
        }),
      };
    },
    StopDeployment: async (input) => {
      const { deploymentId, autoRollbackEnabled } = read(
        z.object({ deploymentId: Name, autoRollbackEnabled: z.boolean().optional() }),
        input,
      );
      return codeDeploy.stopDeployment(deploymentId, autoRollbackEnabled);
    },
    ListDeployments: async (input) => {
      const { applicationName, deploymentGroupName, includeOnlyStatuses } = read(
        z.object({
          applicationName: Name.optional(),
          deploymentGroupName: Name.optional(),
          includeOnlyStatuses: z.array(z.string()).optional(),
        }),
        input,
      );
      if (applicationName && deploymentGroupName)
        codeDeploy.group(applicationName, deploymentGroupName);
      else if (applicationName) codeDeploy.application(applicationName);
      return {
        deployments: codeDeploy
          .allDeployments()
          .filter(
            (d) =>
              (!applicationName || d.applicationName === applicationName) &&
              (!deploymentGroupName || d.deploymentGroupName === deploymentGroupName) &&
              (!includeOnlyStatuses?.length || includeOnlyStatuses.includes(d.status)),
          )
          .sort((a, b) => b.createTime - a.createTime)
          .map((d) => d.deploymentId),
      };
    },
    ListDeploymentInstances: async (input) => {
      const { deploymentId, instanceStatusFilter } = read(
        z.object({ deploymentId: Name, instanceStatusFilter: z.array(z.string()).optional() }),
        input,
      );
      return { instancesList: targetNames(codeDeploy, deploymentId, instanceStatusFilter) };
    },
    GetDeploymentInstance: async (input) => {
      const { deploymentId, instanceId } = read(
        z.object({ deploymentId: Name, instanceId: Name }),
        input,
      );
      return {
        instanceSummary: instanceSummary(deploymentId, codeDeploy.target(deploymentId, instanceId)),
      };
    },
    BatchGetDeploymentInstances: async (input) => {
      const { deploymentId, instanceIds } = read(
        z.object({ deploymentId: Name, instanceIds: z.array(Name) }),
        input,
      );
      return {
        instancesSummary: instanceIds.map((id) =>
          instanceSummary(deploymentId, codeDeploy.target(deploymentId, id)),
        ),
      };
    },
    ListDeploymentTargets: async (input) => {
      const { deploymentId, targetFilters } = read(
        z.object({
          deploymentId: Name,
          targetFilters: z.record(z.string(), z.array(z.string())).optional(),
        }),
        input,
      );
      return { targetIds: targetNames(codeDeploy, deploymentId, targetFilters?.TargetStatus) };
    },
    GetDeploymentTarget: async (input) => {
      const { deploymentId, targetId } = read(
        z.object({ deploymentId: Name, targetId: Name }),
        input,
      );
      return {
        deploymentTarget: deploymentTarget(
          codeDeploy,
          deploymentId,
          codeDeploy.target(deploymentId, targetId),
        ),
      };
    },
    BatchGetDeploymentTargets: async (input) => {
      const { deploymentId, targetIds } = read(
        z.object({ deploymentId: Name, targetIds: z.array(Name) }),
        input,
      );
      return {
        deploymentTargets: targetIds.map((id) =>
          deploymentTarget(codeDeploy, deploymentId, codeDeploy.target(deploymentId, id)),
        ),
      };
    },
  };
}

/** AddTagsToOnPremisesInstances, or with `remove` RemoveTagsFromOnPremisesInstances. */
async function retag(codeDeploy: LocalCodeDeploy, input: unknown, { remove = false } = {}) {
  const { tags, instanceNames } = read(
    z.object({ tags: TagsSchema, instanceNames: z.array(Name) }),
    input,
  );
  await codeDeploy.tagInstances(
    instanceNames,
    tags.map((t) => ({ Key: t.Key, Value: t.Value ?? "" })),
    remove,
  );
  return {};
}

function groupInfo(group: DeploymentGroup) {
  return {
    ...group,
    deploymentStyle: group.deploymentStyle ?? {
      deploymentType: "IN_PLACE",
      deploymentOption: "WITHOUT_TRAFFIC_CONTROL",
    },
  };
}

function instanceInfo(instance: OnPremisesInstance) {
  return {
    instanceName: instance.instanceName,
    instanceArn: instance.instanceArn,
    ...(instance.iamUserArn ? { iamUserArn: instance.iamUserArn } : {}),
    ...(instance.iamSessionArn ? { iamSessionArn: instance.iamSessionArn } : {}),
    registerTime: instance.registerTime,
    tags: instance.tags,
  };
}

function deploymentInfo(deployment: Deployment) {
  const { targets, ...info } = deployment;
  const overview = { Pending: 0, InProgress: 0, Succeeded: 0, Failed: 0, Skipped: 0, Ready: 0 };
  for (const target of Object.values(targets)) overview[target.status] += 1;
  return {
    ...info,
    deploymentOverview: overview,
    computePlatform: "Server",
    deploymentStyle: { deploymentType: "IN_PLACE", deploymentOption: "WITHOUT_TRAFFIC_CONTROL" },
  };
}

/**
 * The deployment's instances, by name, with one of `statuses` when any are given: what
 * ListDeploymentInstances and ListDeploymentTargets (EC2/on-premises) both answer.
 */
function targetNames(
  codeDeploy: LocalCodeDeploy,
  deploymentId: string,
  statuses: readonly string[] | undefined,
): string[] {
  return Object.values(codeDeploy.deployment(deploymentId).targets)
    .filter((t) => !statuses?.length || statuses.includes(t.status))
    .map((t) => t.instanceName);
}

function instanceSummary(deploymentId: string, target: DeploymentTarget) {
  return {
    deploymentId,
    instanceId: target.instanceName,
    status: target.status,
    lastUpdatedAt: target.lastUpdatedAt,
    lifecycleEvents: target.lifecycleEvents,
    instanceType: "Blue",
  };
}

function deploymentTarget(
  codeDeploy: LocalCodeDeploy,
  deploymentId: string,
  target: DeploymentTarget,
) {
  return {
    deploymentTargetType: "InstanceTarget",
    instanceTarget: {
      deploymentId,
      targetId: target.instanceName,
      targetArn: codeDeploy.instance(target.instanceName).instanceArn,
      status: target.status,
      lastUpdatedAt: target.lastUpdatedAt,
      lifecycleEvents: target.lifecycleEvents,
    },
  };
}
