import type { App } from "../domain/app";
import { NotFoundError } from "../domain/errors";
import type { AppRepository } from "../domain/ports";

/** The registered app of that name; a NotFoundError (404) says so when there is none. */
export async function requireApp(apps: AppRepository, name: string): Promise<App> {
  const app = await apps.get(name);
  if (!app) throw new NotFoundError(`app "${name}" is not registered`);
  return app;
}
