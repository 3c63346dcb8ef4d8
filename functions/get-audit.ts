import { appStore } from "../adapters/app-store";
import { auditTrail } from "../adapters/audit-trail";
import { runStore } from "../adapters/run-store";
import { AppNameSchema } from "../domain/app";
import { auditLine } from "../domain/audit-lines";
import { NotFoundError } from "../domain/errors";
import { RunIdSchema } from "../domain/run";
import { apiHandler, json, pathParameter } from "../http/api";
import { PageQuerySchema, queryParameters } from "../http/query";
import { requireApp } from "../usecases/require-app";

/** GET /runs/{id}/audit and GET /apps/{app}/audit: the audit trail, newest first, a page at a time. */
export const handler = apiHandler(async (event) => {
  const page = queryParameters(event, PageQuerySchema);
  const trail = auditTrail();
  let found: Awaited<ReturnType<typeof trail.byRun>>;
  if (event.pathParameters?.id !== undefined) {
    const id = pathParameter(event, "id");
    const run = RunIdSchema.safeParse(id).success ? await runStore().get(id) : undefined;
    if (!run) throw new NotFoundError(`run ${id} does not exist`);
    found = await trail.byRun(run.id, page);
  } else {
    const app = await requireApp(appStore(), pathParameter(event, "app", AppNameSchema));
    found = await trail.byApp(app.name, page);
  }
  return json(200, {
    // Each entry says what happened in a person's words too, as `sluice events` prints it.
    entries: found.items.map((entry) => ({ ...entry, summary: auditLine(entry) })),
    ...(found.nextCursor ? { nextCursor: found.nextCursor } : {}),
  });
});
