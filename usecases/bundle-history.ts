import type { BundleRejection, BundleRelease } from "../domain/bundles/release-record";
import { NotFoundError } from "../domain/errors";
import type { AppRepository, BundleLedger } from "../domain/ports";
import { requireApp } from "./require-app";

export interface BundleHistory {
  app: string;
  version: string;
  release: BundleRelease | null;
  rejections: BundleRejection[];
}

/** What became of the bundles uploaded as an app's version: the release, and every refusal. */
export async function bundleHistory(
  ports: { apps: AppRepository; bundles: BundleLedger },
  appName: string,
  version: string,
): Promise<BundleHistory> {
  const app = await requireApp(ports.apps, appName);
  const { release, rejections } = await ports.bundles.history(app.name, version);
  if (!release && rejections.length === 0) {
    throw new NotFoundError(
      `no bundle of version ${version} of app "${app.name}" has been received`,
    );
  }
  return { app: app.name, version, release: release ?? null, rejections };
}
