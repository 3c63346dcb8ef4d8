import { appStore } from "../adapters/app-store";
import { fleet } from "../adapters/fleet";
import { AppNameSchema } from "../domain/app";
import { deploymentGroupsOf } from "../domain/app-summary";
import { apiHandler, json, pathParameter } from "../http/api";
import { requireApp } from "../usecases/require-app";

/** GET /apps/{app}/fleet: each deployment group of the app's pipeline, host by host. */
export const handler = apiHandler(async (event) => {
  const app = await requireApp(appStore(), pathParameter(event, "app", AppNameSchema));
  const codeDeploy = fleet();
  const groups = await Promise.all(
    deploymentGroupsOf(app).map(async ({ application, deploymentGroup, steps }) => ({
      ...(await codeDeploy.group(application, deploymentGroup)),
      steps,
    })),
  );
  return json(200, { app: app.name, groups });
});
