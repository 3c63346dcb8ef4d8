import { userInfo } from "node:os";
import { CliError } from "./errors";

/** Where the CLI finds Sluice: `npm start`'s stack unless told otherwise. */
export const LOCAL = {
  api: "http://127.0.0.1:3000",
  bucket: "sluice-local-releases",
  s3Endpoint: "http://127.0.0.1:4569",
  cloudwatchEndpoint: "http://127.0.0.1:4582",
} as const;

/** s3rver's one key pair, used only against local endpoints when no credentials are set. */
export const LOCAL_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

/**
 * What the CLI signs requests to a local API with when no AWS credentials are set: an access
 * key naming the local user, `local-<user>` (SLUICE_LOCAL_USER, else the OS user), which the
 * local API reads as the principal arn:aws:iam::000000000000:user/<user>. The local API checks
 * no signature, so this says who the CLI's user is, as honestly as the machine knows it, not
 * more; S3 and CloudWatch calls keep the stand-ins' own key pair (LOCAL_CREDENTIALS).
 */
export function localIdentity(env: NodeJS.ProcessEnv): {
  accessKeyId: string;
  secretAccessKey: string;
} {
  let user = env.SLUICE_LOCAL_USER;
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      // No passwd entry for this uid (some containers): fall back to what the shell says.
      user = env.USER ?? env.LOGNAME;
    }
  }
  const name = (user ?? "").replace(/[^\w+=,.@-]/g, "_") || "unknown";
  return { accessKeyId: `local-${name}`, secretAccessKey: "local" };
}

export interface GlobalOptions {
  api?: string;
  token?: string;
  s3Endpoint?: string;
  bucket?: string;
  cloudwatchEndpoint?: string;
}

export interface Settings {
  api: string;
  /** A bearer token (a JWT from the team's OIDC provider, or the local stack's token). */
  token?: string;
  bucket: string;
  /** Absent: AWS's own S3 endpoint. */
  s3Endpoint?: string;
}

/**
 * Options first, then the environment, then the local stack's addresses. The local S3 endpoint
 * is only assumed for the local bucket, so naming a bucket on AWS is enough to upload there.
 */
export function resolveSettings(options: GlobalOptions, env: NodeJS.ProcessEnv): Settings {
  const bucket = options.bucket ?? env.SLUICE_RELEASES_BUCKET ?? LOCAL.bucket;
  const s3Endpoint =
    options.s3Endpoint ??
    env.AWS_ENDPOINT_URL_S3 ??
    (bucket === LOCAL.bucket ? LOCAL.s3Endpoint : undefined);
  const api = (options.api ?? env.SLUICE_API ?? LOCAL.api).replace(/\/+$/, "");
  if (!URL.canParse(api) || !/^https?:$/.test(new URL(api).protocol)) {
    throw new CliError(`the Sluice API must be an http(s) URL, not "${api}"`);
  }
  const token = options.token ?? env.SLUICE_TOKEN;
  return {
    api,
    ...(token ? { token } : {}),
    bucket,
    ...(s3Endpoint ? { s3Endpoint } : {}),
  };
}

/**
 * Where `sluice alarm` calls CloudWatch: the option, then AWS_ENDPOINT_URL_CLOUDWATCH, then the
 * local stand-in when the Sluice API is the local stack's (on loopback); otherwise (absent)
 * AWS's own endpoint, so pointing the CLI at a deployed API is enough.
 */
export function resolveCloudWatchEndpoint(
  options: GlobalOptions,
  env: NodeJS.ProcessEnv,
): string | undefined {
  const given = options.cloudwatchEndpoint ?? env.AWS_ENDPOINT_URL_CLOUDWATCH;
  if (given) return given;
  return isLoopback(new URL(resolveSettings(options, env).api))
    ? LOCAL.cloudwatchEndpoint
    : undefined;
}

export function isLoopback(url: URL): boolean {
  return ["localhost", "[::1]"].includes(url.hostname) || url.hostname.startsWith("127.");
}
