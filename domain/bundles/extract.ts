import { mkdir, readdir } from "node:fs/promises";
import { resolve } from "node:path";
import { listEntries } from "./archive";
import { type BundleLimits, DEFAULT_BUNDLE_LIMITS } from "./limits";
import type { BundleFormat } from "./release-key";
import { extractTar } from "./tar-archive";
import { extractZip } from "./zip-archive";

export class DestinationNotEmptyError extends Error {
  override readonly name = "DestinationNotEmptyError";

  constructor(readonly destDir: string) {
    super(`refusing to unpack a bundle into ${destDir}: it is not empty`);
  }
}

/**
 * Unpacks a bundle into an empty (or missing) folder. The path, symlink and size rules are
 * applied again from the archive itself: a revision folder is only ever written once, and
 * never from a bundle that was not checked.
 */
export async function extractBundle(
  filePath: string,
  format: BundleFormat,
  destDir: string,
  limits: BundleLimits = DEFAULT_BUNDLE_LIMITS,
): Promise<void> {
  const root = resolve(destDir);
  await mkdir(root, { recursive: true });
  if ((await readdir(root)).length > 0) throw new DestinationNotEmptyError(root);
  const entries = await listEntries(filePath, format, limits);
  const listed = new Map(entries.map((entry) => [entry.path, entry]));
  await (format === "zip"
    ? extractZip(filePath, root, listed)
    : extractTar(filePath, root, listed));
}
