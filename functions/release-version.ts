import { appStore } from "../adapters/app-store";
import { bundleLedger } from "../adapters/bundle-ledger";
import { intakePorts } from "../adapters/intake-ports";
import { releaseBucket } from "../adapters/release-bucket";
import { AppNameSchema } from "../domain/app";
import { VersionSchema } from "../domain/bundles/release-key";
import { actorOf, apiHandler, json, optionalJsonBody, pathParameter } from "../http/api";
import { isDryRun } from "../http/dry-run";
import { releaseVersion } from "../usecases/release-run";

/**
 * POST /apps/{app}/releases/{version}/runs: a run of an already-uploaded release through the
 * whole pipeline; `?dryRun=true` answers its plan and records nothing.
 */
export const handler = apiHandler(async (event) => {
  const dryRun = isDryRun(event);
  const answer = await releaseVersion(
    { ...intakePorts(), apps: appStore(), bundles: bundleLedger(), releases: releaseBucket() },
    pathParameter(event, "app", AppNameSchema),
    pathParameter(event, "version", VersionSchema),
    { by: actorOf(event), body: optionalJsonBody(event), dryRun },
  );
  return json(dryRun ? 200 : 202, answer);
});
