import { describe, expect, it } from "vitest";
import { BuildFailedError, LocalCodeBuild } from "../../local/codebuild";
import { useTempDirs } from "../support/bundles";

const tempDir = useTempDirs();

async function build(artifacts: unknown, commands: string[]) {
  const codeBuild = new LocalCodeBuild(
    await tempDir(),
    new Set(["p"]),
    "us-east-1",
    "000000000000",
  );
  return codeBuild.startBuildSync({
    ProjectName: "p",
    BuildspecOverride: JSON.stringify({
      version: 0.2,
      phases: { build: { commands } },
      artifacts: { files: ["out/*.tgz"] },
    }),
    ArtifactsOverride: artifacts,
  });
}

describe("the local CodeBuild's artifacts", () => {
  it("fails the build in UPLOAD_ARTIFACTS when no file matches, as CodeBuild does", async () => {
    const failed = await build({ Type: "S3", Location: "releases", Path: "a/builds", Name: "r" }, [
      "mkdir -p out && touch out/x.txt",
    ]).catch((err: unknown) => err);

    expect(failed).toBeInstanceOf(BuildFailedError);
    const { build: result } = failed as BuildFailedError;
    expect(result.BuildStatus).toBe("FAILED");
    expect(result.Phases.at(-1)).toMatchObject({
      PhaseType: "UPLOAD_ARTIFACTS",
      PhaseStatus: "FAILED",
      Contexts: [{ StatusCode: "CLIENT_ERROR", Message: "no matching artifact paths found" }],
    });
  });

  it("uploads nothing, and says nothing of artifacts, without an S3 override", async () => {
    const { Build } = await build({ Type: "NO_ARTIFACTS" }, ["true"]);

    expect(Build.BuildStatus).toBe("SUCCEEDED");
    expect(Build.Phases.map((p) => p.PhaseType)).toEqual(["BUILD"]);
    expect(Build).not.toHaveProperty("Artifacts");
  });

  it("refuses packaging it does not do", async () => {
    await expect(
      build({ Type: "S3", Location: "releases", Name: "r", Packaging: "ZIP" }, ["true"]),
    ).rejects.toThrow();
  });
});
