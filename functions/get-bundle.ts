import { appStore } from "../adapters/app-store";
import { bundleLedger } from "../adapters/bundle-ledger";
import { AppNameSchema } from "../domain/app";
import { VersionSchema } from "../domain/bundles/release-key";
import { apiHandler, json, pathParameter } from "../http/api";
import { bundleHistory } from "../usecases/bundle-history";

/**
 * GET /apps/{app}/bundles/{version}: what became of the bundles uploaded as that version, the
 * release and the run it started, and every refused upload with its reason.
 */
export const handler = apiHandler(async (event) => {
  const history = await bundleHistory(
    { apps: appStore(), bundles: bundleLedger() },
    pathParameter(event, "app", AppNameSchema),
    pathParameter(event, "version", VersionSchema),
  );
  return json(200, history);
});
