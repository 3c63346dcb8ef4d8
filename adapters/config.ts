import * as z from "../domain/zod";

/**
 * Names of the stack's resources, given to every function through its environment
 * (serverless.yml in AWS, the local stack on a laptop). Endpoints are not here: the SDK reads
 * AWS_ENDPOINT_URL_<SERVICE> itself, which is what lets one code path serve both homes.
 */
const ConfigSchema = z.object({
  SLUICE_TABLE: z.string().check(z.minLength(3)),
  SLUICE_EVENT_BUS: z.string().check(z.minLength(1)),
  SLUICE_RELEASES_BUCKET: z.string().check(z.minLength(3)),
  SLUICE_PIPELINE_ARN: z.string().check(z.startsWith("arn:")),
  SLUICE_BUILD_PROJECT: z.string().check(z.minLength(2)),
  SLUICE_S3_FORCE_PATH_STYLE: z.pipe(
    z._default(z.enum(["true", "false"]), "false"),
    z.transform((v) => v === "true"),
  ),
  /** SSM parameter path the apps' webhook secrets live under, e.g. /sluice/dev. */
  SLUICE_SECRETS_PREFIX: z
    .string()
    .check(z.regex(/^(\/[\w.-]+)+$/, "an SSM path such as /sluice/dev")),
  /** Where people reach the HTTP API, for the links Sluice sends them (no trailing slash). */
  SLUICE_PUBLIC_URL: z.optional(z.url({ protocol: /^https?$/ })),
  /** The From address of approval mails: an identity SES has verified, in AWS. */
  SLUICE_EMAIL_FROM: z._default(
    z.string().check(z.regex(/@[^\s@]+>?$/, "a mail address such as sluice@example.com")),
    "sluice@localhost",
  ),
});

export type SluiceConfig = {
  table: string;
  eventBus: string;
  releasesBucket: string;
  pipelineArn: string;
  buildProject: string;
  s3ForcePathStyle: boolean;
  secretsPrefix: string;
  /** Absent: no links can be made (approvals are decided through the API only). */
  publicUrl?: string;
  emailFrom: string;
};

export function readConfig(env: NodeJS.ProcessEnv = process.env): SluiceConfig {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const missing = parsed.error.issues.map((i) => i.path.join(".")).join(", ");
    throw new Error(`Sluice is not configured: check ${missing} in the environment`, {
      cause: parsed.error,
    });
  }
  const c = parsed.data;
  return {
    table: c.SLUICE_TABLE,
    eventBus: c.SLUICE_EVENT_BUS,
    releasesBucket: c.SLUICE_RELEASES_BUCKET,
    pipelineArn: c.SLUICE_PIPELINE_ARN,
    buildProject: c.SLUICE_BUILD_PROJECT,
    s3ForcePathStyle: c.SLUICE_S3_FORCE_PATH_STYLE,
    secretsPrefix: c.SLUICE_SECRETS_PREFIX,
    ...(c.SLUICE_PUBLIC_URL ? { publicUrl: c.SLUICE_PUBLIC_URL.replace(/\/+$/, "") } : {}),
    emailFrom: c.SLUICE_EMAIL_FROM,
  };
}

let cached: SluiceConfig | undefined;

/** The stack's configuration, read from the environment once per container (one cold start). */
export function stackConfig(): SluiceConfig {
  cached ??= readConfig();
  return cached;
}
