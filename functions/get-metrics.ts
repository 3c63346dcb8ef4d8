import { appStore } from "../adapters/app-store";
import { runStore } from "../adapters/run-store";
import { AppNameSchema } from "../domain/app";
import { apiHandler, json, pathParameter } from "../http/api";
import { appMetrics, parseMetricsQuery } from "../usecases/delivery-metrics";

/** GET /apps/{app}/metrics?from=&to=: the app's DORA delivery metrics over the period. */
export const handler = apiHandler(async (event) => {
  const app = pathParameter(event, "app", AppNameSchema);
  const period = parseMetricsQuery(event.queryStringParameters, new Date());
  return json(200, await appMetrics({ apps: appStore(), runs: runStore() }, app, period));
});
