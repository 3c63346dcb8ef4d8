import type { BuildConfig } from "./app";
import { BUILD_BUNDLE_DIR, BUILD_BUNDLE_FILE, type BuildArtifactsOverride } from "./build-bundle";
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
  /** Where CodeBuild uploads the bundle the build packs, for a build that makes one. */
  artifacts?: BuildArtifactsOverride;
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
  /** Where CodeBuild uploads the bundle, for a build with `artifacts`. */
  upload?: BuildArtifactsOverride,
): BuildPlan {
  const bundle = upload && build.artifacts;
  const buildspec = {
    version: 0.2,
    // The packing below is bash; CodeBuild's default on Linux is sh.
    ...(bundle ? { env: { shell: "bash" } } : {}),
    phases: {
      pre_build: {
        commands: [
          `git clone --quiet --no-checkout -- "$SLUICE_REPOSITORY" ${SOURCE_DIR}`,
          `cd ${SOURCE_DIR}`,
          `git checkout --quiet --detach "$SLUICE_COMMIT"`,
          `test "$(git rev-parse HEAD)" = "$SLUICE_COMMIT"`,
        ],
      },
      // Packed last in the build phase, so only a build whose commands all passed packs.
      build: { commands: bundle ? [...build.commands, PACK_BUNDLE] : build.commands },
    },
    ...(bundle
      ? { artifacts: { files: [BUILD_BUNDLE_FILE], "base-directory": BUILD_BUNDLE_DIR } }
      : {}),
  };
  const variables: Record<string, string> = {
    ...build.env,
    SLUICE_REPOSITORY: repository,
    SLUICE_COMMIT: revision.commit,
    SLUICE_REF: revision.ref ?? "",
    SLUICE_RUN_ID: runId,
    ...(bundle
      ? {
          SLUICE_ARTIFACTS_BASE: bundle.baseDirectory,
          SLUICE_ARTIFACTS_FILES: bundle.files.join("\n"),
        }
      : {}),
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
    ...(bundle && upload ? { artifacts: upload } : {}),
  };
}

/**
 * Packs the build's output as a tar.gz beside the clone: every path of the clone's
 * SLUICE_ARTIFACTS_BASE that a line of SLUICE_ARTIFACTS_FILES matches as a bash globstar
 * pattern (dot files too), a matched folder with everything in it, never a `.git` folder.
 * Entries are listed once each (a folder and its files may both match) and start with `./`,
 * so no name is read as an option. The patterns arrive as a variable and are only globbed,
 * never run. A subshell, so its `set -e` and `cd` stay its own.
 */
const PACK_BUNDLE = `(
set -eo pipefail
cd "$CODEBUILD_SRC_DIR/${SOURCE_DIR}"
out="$CODEBUILD_SRC_DIR/${BUILD_BUNDLE_DIR}"
mkdir -p "$out"
if [ ! -d "$SLUICE_ARTIFACTS_BASE" ]; then
  echo "artifacts.baseDirectory '$SLUICE_ARTIFACTS_BASE' is not a folder of the clone" >&2
  exit 1
fi
cd "$SLUICE_ARTIFACTS_BASE"
shopt -s globstar dotglob nullglob
IFS=$'\\n'
paths=()
for path in $SLUICE_ARTIFACTS_FILES; do paths+=("./$path"); done
if [ "\${#paths[@]}" -eq 0 ]; then
  echo "artifacts.files match nothing in '$SLUICE_ARTIFACTS_BASE'" >&2
  exit 1
fi
find "\${paths[@]}" \\( -name .git -o -path '*/.git/*' \\) -prune -o -print0 | LC_ALL=C sort -zu > "$out/files"
tar -czf "$out/${BUILD_BUNDLE_FILE}" --no-recursion --null -T "$out/files"
echo "packed $(tr -cd '\\0' < "$out/files" | wc -c | tr -d ' ') paths of $SLUICE_ARTIFACTS_BASE as the run's bundle"
)`;

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
