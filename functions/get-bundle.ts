import { adapters } from "../adapters/clients";
import { NotFoundError } from "../domain/errors";
import { apiHandler, json, pathParameter } from "../http/api";

/**
 * GET /apps/{app}/bundles/{version}: what became of the bundles uploaded as that version, the
 * release and the run it started, and every refused upload with its reason.
 */
export const handler = apiHandler(async (event) => {
  const app = pathParameter(event, "app");
  const version = pathParameter(event, "version");
  const { apps, bundles } = adapters();
  if (!(await apps.get(app))) throw new NotFoundError(`app "${app}" is not registered`);
  const { release, rejections } = await bundles.history(app, version);
  if (!release && rejections.length === 0) {
    throw new NotFoundError(`no bundle of version ${version} of app "${app}" has been received`);
  }
  return json(200, { app, version, release: release ?? null, rejections });
});
