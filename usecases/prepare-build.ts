import { planBuild } from "../domain/buildspec";
import { NotFoundError } from "../domain/errors";
import type { AppRepository } from "../domain/ports";
import type { Revision } from "../domain/revision";
import { requireApp } from "./require-app";

export type BuildDecision =
  | { skip: true; reason: string }
  | {
      skip: false;
      projectName: string;
      buildspec: string;
      environment: ReturnType<typeof planBuild>["environment"];
      timeoutMinutes: number;
    };

/**
 * Decides what the build stage does with a run: an uploaded bundle and an app with no build
 * skip it; otherwise CodeBuild clones the repository at the run's commit and runs the app's
 * build commands.
 */
export async function prepareBuild(
  ports: { apps: AppRepository; buildProject: string },
  input: { runId: string; app: string; revision: Revision },
): Promise<BuildDecision> {
  const { revision } = input;
  if (revision.type === "bundle") {
    return { skip: true, reason: "uploaded bundles are deployed as they are" };
  }
  const app = await requireApp(ports.apps, input.app);
  if (!app.pipeline.build) {
    return { skip: true, reason: `app ${app.name} has no build configured` };
  }
  const repository = revision.repository ?? app.pipeline.repository;
  if (!repository) {
    throw new NotFoundError(
      `nothing to clone for run ${input.runId}: set repository in the pipeline definition of ${app.name}`,
    );
  }
  return {
    skip: false,
    projectName: ports.buildProject,
    ...planBuild(app.pipeline.build, revision, repository, input.runId),
  };
}
