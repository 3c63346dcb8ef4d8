import { appStore } from "../adapters/app-store";
import { bundleLedger } from "../adapters/bundle-ledger";
import { intakePorts } from "../adapters/intake-ports";
import { releaseBucket } from "../adapters/release-bucket";
import { AppNameSchema } from "../domain/app";
import { VersionSchema } from "../domain/bundles/release-key";
import { actorOf, apiHandler, json, optionalJsonBody, pathParameter } from "../http/api";
import { isDryRun } from "../http/dry-run";
import { rollBackTo } from "../usecases/release-run";

/**
 * POST /apps/{app}/releases/{version}/rollbacks: a rollback to that release through the
 * production waves only (`{ "bake": true }` keeps their bakes); `?dryRun=true` answers its plan
 * and records nothing.
 */
export const handler = apiHandler(async (event) => {
  const dryRun = isDryRun(event);
  const answer = await rollBackTo(
    { ...intakePorts(), apps: appStore(), bundles: bundleLedger(), releases: releaseBucket() },
    pathParameter(event, "app", AppNameSchema),
    pathParameter(event, "version", VersionSchema),
    { by: actorOf(event), body: optionalJsonBody(event), dryRun },
  );
  return json(dryRun ? 200 : 202, answer);
});
