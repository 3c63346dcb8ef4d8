import { z } from "zod";

/** The request shapes the stand-in and its API share, as the SDK sends them. */

export const TagFilterSchema = z.object({
  Key: z.string().optional(),
  Value: z.string().optional(),
  Type: z.enum(["KEY_ONLY", "VALUE_ONLY", "KEY_AND_VALUE"]).optional(),
});

export const GroupSettingsSchema = z.object({
  deploymentConfigName: z.string().optional(),
  onPremisesInstanceTagFilters: z.array(TagFilterSchema).optional(),
  serviceRoleArn: z.string().optional(),
  alarmConfiguration: z
    .object({
      enabled: z.boolean().optional(),
      ignorePollAlarmFailure: z.boolean().optional(),
      alarms: z
        .array(z.object({ name: z.string() }))
        .max(10)
        .optional(),
    })
    .optional(),
  autoRollbackConfiguration: z
    .object({
      enabled: z.boolean().optional(),
      events: z
        .array(
          z.enum(["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST"]),
        )
        .optional(),
    })
    .optional(),
  deploymentStyle: z.record(z.string(), z.unknown()).optional(),
});

export const RevisionSchema = z.object({
  revisionType: z.literal("S3", { error: "the local CodeDeploy deploys revisions from S3 only" }),
  s3Location: z.object({
    bucket: z.string().min(1),
    key: z.string().min(1),
    bundleType: z.enum(["zip", "tgz", "tar"]),
    version: z.string().optional(),
    eTag: z.string().optional(),
  }),
});

export const CreateDeploymentSchema = z.object({
  applicationName: z.string().min(1),
  deploymentGroupName: z.string().min(1),
  revision: RevisionSchema,
  deploymentConfigName: z.string().optional(),
  description: z.string().optional(),
  ignoreApplicationStopFailures: z.boolean().optional(),
  autoRollbackConfiguration: GroupSettingsSchema.shape.autoRollbackConfiguration,
  overrideAlarmConfiguration: GroupSettingsSchema.shape.alarmConfiguration,
  fileExistsBehavior: z.enum(["DISALLOW", "OVERWRITE", "RETAIN"]).optional(),
});
