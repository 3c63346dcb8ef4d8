/** Where the CLI finds Sluice: `npm start`'s stack unless told otherwise. */
export const LOCAL = {
  api: "http://127.0.0.1:3000",
  bucket: "sluice-local-releases",
  s3Endpoint: "http://127.0.0.1:4569",
} as const;

export interface GlobalOptions {
  api?: string;
  s3Endpoint?: string;
  bucket?: string;
}

export interface Settings {
  api: string;
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
  return {
    api: (options.api ?? env.SLUICE_API ?? LOCAL.api).replace(/\/+$/, ""),
    bucket,
    ...(s3Endpoint ? { s3Endpoint } : {}),
  };
}
