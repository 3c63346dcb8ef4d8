import { NotFoundError } from "../domain/errors";
import { apiHandler } from "../http/api";
import { dashboardFile } from "../http/dashboard";

/** GET /ui and GET /ui/{file}: the web dashboard's page, style, scripts and sign-in settings. */
export const handler = apiHandler(async (event) => {
  const name = event.pathParameters?.file;
  const file = dashboardFile(name);
  if (!file) throw new NotFoundError(`the dashboard has no file ${name}`);
  return file;
});
