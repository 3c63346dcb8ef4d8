import type { BuildConfig } from "./app";
import type { GitRevision } from "./revision";

export interface BuildEnvironmentVariable {
  Name: string;
  Value: string;
  Type: "PLAINTEXT";
}

export interface BuildPlan {
  buildspec: string;
  environment: BuildEnvironmentVariable[];
  timeoutMinutes: number;
}

/** Where the clone goes, relative to the build's working directory. */
export const SOURCE_DIR = "source";

/**
 * The CodeBuild buildspec (version 0.2) for one run: clone the repository, check out exactly
 * the run's commit, then the app's commands inside the clone. Repository and commit travel as
 * environment variables, never spliced into the commands, so nothing in them is ever run.
 */
export function planBuild(
  build: BuildConfig,
  revision: GitRevision,
  repository: string,
  runId: string,
): BuildPlan {
  const buildspec = {
    version: 0.2,
    phases: {
      pre_build: {
        commands: [
          `git clone --quiet --no-checkout -- "$SLUICE_REPOSITORY" ${SOURCE_DIR}`,
          `cd ${SOURCE_DIR}`,
          `git checkout --quiet --detach "$SLUICE_COMMIT"`,
          `test "$(git rev-parse HEAD)" = "$SLUICE_COMMIT"`,
        ],
      },
      build: { commands: build.commands },
    },
  };
  const variables: Record<string, string> = {
    ...build.env,
    SLUICE_REPOSITORY: repository,
    SLUICE_COMMIT: revision.commit,
    SLUICE_REF: revision.ref ?? "",
    SLUICE_RUN_ID: runId,
  };
  return {
    // CodeBuild reads a buildspec as YAML, of which JSON is a part (CDK's BuildSpec.fromObject
    // sends JSON too); it spares every handler that plans a step a YAML library.
    buildspec: JSON.stringify(buildspec, null, 2),
    environment: Object.entries(variables).map(([Name, Value]) => ({
      Name,
      Value,
      Type: "PLAINTEXT",
    })),
    timeoutMinutes: build.timeoutMinutes,
  };
}

/**
 * The buildspec of a stage's tests: the commands, run against the stage's deployment, which
 * they find through the variables (run, app, stage, deployment group) beside their own.
 */
export function planTests(
  tests: { commands: string[]; env: Record<string, string>; timeoutMinutes: number },
  context: Record<string, string>,
): BuildPlan {
  const buildspec = { version: 0.2, phases: { build: { commands: tests.commands } } };
  return {
    buildspec: JSON.stringify(buildspec, null, 2),
    environment: Object.entries({ ...tests.env, ...context }).map(([Name, Value]) => ({
      Name,
      Value,
      Type: "PLAINTEXT",
    })),
    timeoutMinutes: tests.timeoutMinutes,
  };
}
