import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { type BundleLimits, inspectBundle } from "../domain/bundles/inspect";
import { BundleRejectedError } from "../domain/bundles/rejection";
import { BadRequestError, NotFoundError, RejectedError } from "../domain/errors";
import type { BundleDownloads } from "../domain/ports";
import type { BundleRevision } from "../domain/revision";
import { parseRequest } from "../domain/validation";
import * as z from "../domain/zod";

/** The bundle a build step was to make, and what its build task returned. */
export const PinBuildBundleInputSchema = z.object({
  bundle: z.object({ bucket: z.string(), key: z.string().check(z.minLength(1)) }),
  build: z.looseObject({ id: z.string(), logs: z.optional(z.string()) }),
});

export interface PinBuildBundleOptions {
  limits: BundleLimits;
  /** Where the bundle is downloaded to be checked (Lambda's /tmp). */
  workDir: string;
}

/**
 * After a build that makes the run's bundle: reads the bundle CodeBuild uploaded, checks it as
 * an uploaded bundle is checked, and answers the build's result with the bundle pinned (its
 * etag or version id, size and SHA-256), which the build step's end records as the run's
 * revision. A bundle that breaks a rule fails the build step with the rule's message.
 */
export async function pinBuildBundle(
  ports: { downloads: BundleDownloads & { readonly bucket: string } },
  input: unknown,
  options: PinBuildBundleOptions,
): Promise<{ id: string; logs?: string; bundle: BundleRevision }> {
  const { bundle, build } = parseRequest(PinBuildBundleInputSchema, "build bundle", input);
  const where = `s3://${bundle.bucket}/${bundle.key}`;
  if (bundle.bucket !== ports.downloads.bucket) {
    throw new BadRequestError(`build bundle ${where} is not in the releases bucket`);
  }
  const dir = await mkdtemp(join(options.workDir, "sluice-build-bundle-"));
  try {
    const file = join(dir, "bundle.tar.gz");
    const object = await ports.downloads.download(
      { key: bundle.key },
      file,
      options.limits.maxBundleBytes,
    );
    if (!object) throw new NotFoundError(`build ${build.id} left no bundle at ${where}`);
    await inspectBundle(file, "tar.gz", options.limits);
    return {
      id: build.id,
      ...(build.logs ? { logs: build.logs } : {}),
      bundle: {
        type: "bundle",
        bucket: bundle.bucket,
        key: bundle.key,
        etag: object.etag,
        ...(object.versionId ? { versionId: object.versionId } : {}),
        size: object.size,
        sha256: object.sha256,
      },
    };
  } catch (err) {
    if (!(err instanceof BundleRejectedError)) throw err;
    throw new RejectedError(
      err.code,
      `the bundle build ${build.id} made is refused (${err.code}): ${err.message}`,
      { cause: err },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
