import { tmpdir } from "node:os";
import { releaseBucket } from "../adapters/release-bucket";
import { pinBuildBundle } from "../usecases/pin-build-bundle";
import { bundleLimits } from "./receive-bundle";
import { taskHandler } from "./task";

/**
 * Pipeline task after a build that makes the run's bundle: the bundle, checked and pinned.
 * Input: `{ bundle: { bucket, key }, build: { id, logs } }`.
 */
export const handler = taskHandler((input: unknown) =>
  pinBuildBundle({ downloads: releaseBucket() }, input, {
    limits: bundleLimits(process.env),
    workDir: tmpdir(),
  }),
);
