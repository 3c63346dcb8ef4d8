import { AppNameSchema } from "../app";
import * as z from "../zod";

export type BundleFormat = "zip" | "tar.gz";

export interface ReleaseKey {
  app: string;
  version: string;
  format: BundleFormat;
}

export const VersionSchema = z
  .string()
  .check(
    z.regex(
      /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/,
      "versions are 1-128 letters, digits, '.', '_', '+' and '-', starting with a letter or digit",
    ),
  );
// Greedy on the version so that "1.0.tar.gz" is version "1.0", and "v.tar.tar.gz" is "v.tar".
const KEY = /^([^/]+)\/([^/]+)\.(zip|tar\.gz)$/;

/**
 * Reads `<app>/<version>.zip` or `<app>/<version>.tar.gz` (an already URL-decoded S3 key).
 * Returns null for anything else, so that stray objects in the bucket never start a run.
 */
export function parseReleaseKey(key: string): ReleaseKey | null {
  const match = KEY.exec(key);
  if (!match) return null;
  const [, app, version, extension] = match;
  if (app === undefined || version === undefined || extension === undefined) return null;
  if (!AppNameSchema.safeParse(app).success || !VersionSchema.safeParse(version).success) {
    return null;
  }
  return { app, version, format: extension === "zip" ? "zip" : "tar.gz" };
}

export function releaseKey({ app, version, format }: ReleaseKey): string {
  return `${app}/${version}.${format}`;
}
