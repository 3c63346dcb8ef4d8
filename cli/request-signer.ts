import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { AwsClient } from "aws4fetch";
import { CliError } from "./errors";
import { isLoopback, LOCAL_CREDENTIALS, localIdentity } from "./settings";

/** Turns a request to the Sluice API into one API Gateway's IAM authorization accepts. */
export type RequestSigner = (request: Request) => Promise<Request>;

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const EXECUTE_API_HOST = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/;

/**
 * SigV4 for `execute-api`, as the deployed HTTP API's `aws_iam` routes demand. Credentials come
 * from the environment first, then the SDK's usual chain (profile, SSO, instance role); a
 * loopback API (the local stack, which checks no signature) falls back to a key pair that names
 * the OS user (`local-<user>`): the local stack records it as who acted, as AWS records the
 * IAM principal.
 */
export function requestSigner(api: string, env: NodeJS.ProcessEnv): RequestSigner {
  const url = new URL(api);
  const region =
    EXECUTE_API_HOST.exec(url.hostname)?.[1] ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  let client: Promise<AwsClient> | undefined;
  const signingClient = () => {
    client ??= credentialsFor(url, env).then(
      (credentials) =>
        new AwsClient({ ...credentials, service: "execute-api", region: region ?? "us-east-1" }),
    );
    return client;
  };
  return async (request) => (await signingClient()).sign(request);
}

/**
 * `Authorization: Bearer <token>`, what the API's JWT authorizer (and the local stack's printed
 * token) lets people in with, instead of a SigV4 signature.
 */
export function bearerToken(token: string): RequestSigner {
  return async (request) => {
    const signed = new Request(request);
    signed.headers.set("authorization", `Bearer ${token}`);
    return signed;
  };
}

/**
 * Whether requests to `api` are signed as the local user (`local-<user>`, SLUICE_LOCAL_USER):
 * a loopback API, with no credentials of the person's own. The stand-ins' shared key pair
 * (which `npm start` suggests exporting for the AWS CLI) names nobody, so it does not count.
 */
export function signsAsLocalUser(api: URL, env: NodeJS.ProcessEnv): boolean {
  if (!isLoopback(api)) return false;
  const own = env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY;
  return !own || env.AWS_ACCESS_KEY_ID === LOCAL_CREDENTIALS.accessKeyId;
}

async function credentialsFor(api: URL, env: NodeJS.ProcessEnv): Promise<Credentials> {
  if (signsAsLocalUser(api, env)) return localIdentity(env);
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    return {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
  }
  try {
    return await defaultProvider()();
  } catch (err) {
    throw new CliError(
      `no AWS credentials to sign requests to ${api.origin} with: ${(err as Error).message}`,
      { cause: err },
    );
  }
}
