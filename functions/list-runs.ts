import { appStore } from "../adapters/app-store";
import { runStore } from "../adapters/run-store";
import { AppNameSchema } from "../domain/app";
import * as z from "../domain/zod";
import { apiHandler, json, pathParameter } from "../http/api";
import { queryParameters, RunListQuerySchema } from "../http/query";
import { requireApp } from "../usecases/require-app";

const AllRunsQuerySchema = z.extend(RunListQuerySchema, { app: z.optional(AppNameSchema) });

/**
 * GET /apps/{app}/runs and GET /runs?app=: runs newest first, of one status if asked, a page
 * at a time.
 */
export const handler = apiHandler(async (event) => {
  const inPath = event.pathParameters?.app !== undefined;
  const query = inPath
    ? {
        ...queryParameters(event, RunListQuerySchema),
        app: pathParameter(event, "app", AppNameSchema),
      }
    : queryParameters(event, AllRunsQuerySchema);
  if (query.app) await requireApp(appStore(), query.app);
  const page = await runStore().list(
    { app: query.app, status: query.status },
    { limit: query.limit, cursor: query.cursor },
  );
  return json(200, {
    runs: page.items,
    ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
  });
});
