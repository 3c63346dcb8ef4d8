import { parse as parseYaml } from "yaml";
import { type App, AppNameSchema, PipelineDefinitionSchema } from "../domain/app";
import { BadRequestError } from "../domain/errors";
import type { AppRepository, Clock } from "../domain/ports";
import { formatIssues } from "../domain/validation";

/** Creates or replaces an app's pipeline definition, given as YAML or JSON. */
export async function registerApp(
  ports: { apps: AppRepository; clock: Clock },
  name: string,
  definitionText: string,
  /** Who asks: the request's signer. */
  by?: string,
): Promise<{ app: App; created: boolean }> {
  const appName = AppNameSchema.safeParse(name);
  if (!appName.success) throw new BadRequestError(formatIssues("app name", appName.error));
  let raw: unknown;
  try {
    raw = definitionText.trim() === "" ? {} : parseYaml(definitionText);
  } catch (err) {
    throw new BadRequestError(
      `pipeline definition is not valid YAML or JSON: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  const pipeline = PipelineDefinitionSchema.safeParse(raw ?? {});
  if (!pipeline.success)
    throw new BadRequestError(formatIssues("pipeline definition", pipeline.error));
  const now = ports.clock.now().toISOString();
  const existing = await ports.apps.get(appName.data);
  const app: App = {
    name: appName.data,
    pipeline: pipeline.data,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
    ...(by ? { updatedBy: by } : {}),
  };
  await ports.apps.put(app);
  return { app, created: !existing };
}
