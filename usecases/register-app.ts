import { parse as parseYaml } from "yaml";
import { type App, AppNameSchema, PipelineDefinitionSchema } from "../domain/app";
import { BadRequestError } from "../domain/errors";
import type { AppRepository, Clock } from "../domain/ports";
import { formatIssues, parseRequest } from "../domain/validation";
import { windowProblems } from "../domain/window-state";

/** Creates or replaces an app's pipeline definition, given as YAML or JSON. */
export async function registerApp(
  ports: { apps: AppRepository; clock: Clock },
  name: string,
  definitionText: string,
  /** Who asks: the request's signer. */
  by?: string,
): Promise<{ app: App; created: boolean }> {
  const appName = parseRequest(AppNameSchema, "app name", name);
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
  // Window crons are read by croner only here, so that handlers that only read definitions
  // stay small; their problems are listed with the others.
  const crons = windowProblems(raw).map((c) => `${c.path.join(".")}: ${c.message}`);
  if (!pipeline.success || crons.length > 0) {
    const zodProblems = pipeline.success
      ? []
      : [
          formatIssues("pipeline definition", pipeline.error).replace(
            /^invalid pipeline definition: /,
            "",
          ),
        ];
    throw new BadRequestError(
      `invalid pipeline definition: ${[...zodProblems, ...crons].join("; ")}`,
    );
  }
  const now = ports.clock.now().toISOString();
  const existing = await ports.apps.get(appName);
  const app: App = {
    name: appName,
    pipeline: pipeline.data,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
    ...(by ? { updatedBy: by } : {}),
  };
  await ports.apps.put(app);
  return { app, created: !existing };
}
