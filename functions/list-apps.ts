import { appStore } from "../adapters/app-store";
import { appSummary } from "../domain/app-summary";
import { apiHandler, json } from "../http/api";
import { PageQuerySchema, queryParameters } from "../http/query";

/** GET /apps: every registered app by name, each with its pipeline in brief. */
export const handler = apiHandler(async (event) => {
  const page = await appStore().list(queryParameters(event, PageQuerySchema));
  return json(200, { apps: page.items.map(appSummary), ...nextCursor(page) });
});

function nextCursor(page: { nextCursor?: string }) {
  return page.nextCursor ? { nextCursor: page.nextCursor } : {};
}
