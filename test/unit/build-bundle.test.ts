import { execFile } from "node:child_process";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { type App, PipelineDefinitionSchema } from "../../domain/app";
import { buildBundleOutput } from "../../domain/build-bundle";
import { planBuild } from "../../domain/buildspec";
import { listEntries } from "../../domain/bundles/archive";
import { DEFAULT_BUNDLE_LIMITS } from "../../domain/bundles/limits";
import { parseReleaseKey } from "../../domain/bundles/release-key";
import { RejectedError } from "../../domain/errors";
import type { BundleDownloads } from "../../domain/ports";
import type { GitRevision } from "../../domain/revision";
import { lambdaNotifications, matches } from "../../local/s3-notifications";
import { loadServerlessConfig } from "../../local/serverless-config";
import { PROJECT_ROOT } from "../../local/stack";
import { nextStep } from "../../usecases/next-step";
import { pinBuildBundle } from "../../usecases/pin-build-bundle";
import { type EntrySpec, useTempDirs, writeBundle } from "../support/bundles";
import { memoryPorts, registerApp, startRun } from "../support/fakes";

let ports: ReturnType<typeof memoryPorts>;

beforeEach(() => {
  ports = memoryPorts();
});

function register(definition: unknown): Promise<App> {
  return registerApp(ports.apps, definition);
}

const STACK = { releasesBucket: "releases" };
const commit: GitRevision = { type: "git", ref: "refs/heads/main", commit: "c".repeat(40) };
const built = {
  type: "bundle" as const,
  bucket: "releases",
  key: "shop/builds/RUN/bundle.tgz",
  etag: "e1",
  size: 120,
  sha256: "b".repeat(64),
};

const deploysToBeta = {
  repository: "https://git.example.com/shop.git",
  build: { commands: ["make"] },
  stages: [{ name: "beta", deploy: { deploymentGroup: "shop-beta" } }],
};

/** A git run of the app, walked into its build step. */
async function building(definition: unknown) {
  const run = await startRun(ports, await register(definition), commit, { type: "api" });
  const source = await nextStep(ports, { runId: run.id, step: null }, STACK);
  const build = await nextStep(ports, { runId: run.id, step: source.step, result: commit }, STACK);
  return { run, build: build.step };
}

describe("where a build leaves its bundle", () => {
  it("is under <app>/builds/, never a release key, and no notification of the bucket announces it", async () => {
    const config = await loadServerlessConfig(PROJECT_ROOT);
    const notifications = lambdaNotifications(
      config.resources.get("ReleasesBucket")?.Properties,
      config.functions.keys(),
    );
    const runId = fc.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    const app = fc.stringMatching(/^[a-z][a-z0-9-]{1,20}$/);

    fc.assert(
      fc.property(app, runId, (name, id) => {
        const { location } = buildBundleOutput("releases", name, id);
        expect(location.key).toBe(`${name}/builds/${id}/bundle.tgz`);
        expect(parseReleaseKey(location.key)).toBeNull();
        for (const n of notifications) {
          expect(matches(n, "ObjectCreated:Put", location.key)).toBe(false);
        }
      }),
    );
  });
});

describe("the plan of a build", () => {
  it("packs the whole clone when the app deploys and gives no artifacts", async () => {
    const { run } = await building(deploysToBeta);

    expect(run.plan.steps[1]).toMatchObject({
      kind: "build",
      build: { artifacts: { baseDirectory: ".", files: ["**"] } },
    });
  });

  it("packs nothing for an app that does not deploy, unless it asks", async () => {
    const { build } = await building({ ...deploysToBeta, stages: [] });
    expect(build).toMatchObject({ kind: "build" });
    expect(build).not.toHaveProperty("bundle");
    expect(build).not.toHaveProperty("build.artifacts");

    const asked = await building({
      ...deploysToBeta,
      stages: [],
      build: { commands: ["make"], artifacts: { baseDirectory: "dist", files: ["**/*.js"] } },
    });
    expect(asked.build).toMatchObject({ bundle: { bucket: "releases" } });
  });

  it("tells CodeBuild to upload the packed bundle where the pin task reads it", async () => {
    const { run, build } = await building(deploysToBeta);

    const key = `shop/builds/${run.id}/bundle.tgz`;
    expect(build).toMatchObject({
      kind: "build",
      bundle: { bucket: "releases", key },
      build: {
        artifacts: {
          Type: "S3",
          Location: "releases",
          Path: "shop/builds",
          Name: run.id,
          Packaging: "NONE",
          NamespaceType: "NONE",
        },
      },
    });
    const plan = build.kind === "build" ? build.build : undefined;
    const buildspec = JSON.parse(plan?.buildspec ?? "{}");
    expect(buildspec.artifacts).toEqual({
      files: ["bundle.tgz"],
      "base-directory": "sluice-bundle",
    });
    expect(buildspec.phases.build.commands[0]).toBe("make");
    expect(plan?.environment).toEqual(
      expect.arrayContaining([
        { Name: "SLUICE_ARTIFACTS_BASE", Value: ".", Type: "PLAINTEXT" },
        { Name: "SLUICE_ARTIFACTS_FILES", Value: "**", Type: "PLAINTEXT" },
      ]),
    );
  });

  it("refuses artifacts paths that leave the clone, naming the path", () => {
    const parsed = PipelineDefinitionSchema.safeParse({
      build: {
        commands: ["make"],
        artifacts: { baseDirectory: "../up", files: ["/etc/*", "ok/**"] },
      },
    });

    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join("."))).toEqual([
      "build.artifacts.baseDirectory",
      "build.artifacts.files.0",
    ]);
  });
});

describe("the end of a build that made a bundle", () => {
  it("makes the bundle the run's revision, naming the commit it was built from, and deploys it", async () => {
    const { run, build } = await building(deploysToBeta);

    const deploy = await nextStep(
      ports,
      { runId: run.id, step: build, result: { id: "b-1", logs: "file:///log", bundle: built } },
      STACK,
    );

    expect(deploy.step).toMatchObject({ kind: "deploy", id: "beta" });
    const stored = await ports.runs.get(run.id);
    expect(stored?.revision).toEqual({ ...built, source: commit });
    expect(stored?.steps.find((s) => s.step === "build")).toMatchObject({
      status: "SUCCEEDED",
      message: expect.stringContaining(
        `bundle ${built.key} (built from refs/heads/main@cccccccccccc)`,
      ),
    });
  });

  it("still refuses to deploy a git run whose app has no build", async () => {
    const { repository: _, build: __, ...noBuild } = deploysToBeta;
    const run = await startRun(ports, await register(noBuild), commit, { type: "api" });
    const source = await nextStep(ports, { runId: run.id, step: null }, STACK);

    const next = await nextStep(ports, { runId: run.id, step: source.step, result: commit }, STACK);

    expect(next.step).toMatchObject({
      kind: "failed",
      cause: expect.stringContaining("has no bundle to deploy"),
    });
  });
});

describe("pinning the bundle a build made", () => {
  const tempDir = useTempDirs();
  const APP: EntrySpec[] = [
    { path: "appspec.yml", content: "version: 0.0\nos: linux\n" },
    { path: "dist/app.js", content: "console.log(1)\n" },
  ];

  /** The bucket, holding `entries` packed as a tar.gz at the build's key. */
  async function bucketWith(entries: EntrySpec[] | undefined) {
    const file = join(await tempDir(), "uploaded.tar.gz");
    if (entries) await writeBundle(file, "tar.gz", entries);
    const downloads: BundleDownloads & { bucket: string } = {
      bucket: "releases",
      async download(object, filePath) {
        if (!entries || object.key !== built.key) return undefined;
        await copyFile(file, filePath);
        return { etag: "e1", size: 120, sha256: "b".repeat(64) };
      },
    };
    return { downloads };
  }
  const input = { bundle: { bucket: "releases", key: built.key }, build: { id: "b-1", logs: "l" } };

  it("answers the build's result with the bundle, checked and pinned", async () => {
    const pinned = await pinBuildBundle(await bucketWith(APP), input, {
      limits: { maxBundleBytes: 1 << 20, maxUnpackedBytes: 1 << 20, maxEntries: 100 },
      workDir: await tempDir(),
    });

    expect(pinned).toEqual({ id: "b-1", logs: "l", bundle: built });
  });

  it("refuses a bundle without an appspec.yml at its root, with the rule's message", async () => {
    const pin = pinBuildBundle(await bucketWith([{ path: "dist/app.js", content: "" }]), input, {
      limits: { maxBundleBytes: 1 << 20, maxUnpackedBytes: 1 << 20, maxEntries: 100 },
      workDir: await tempDir(),
    });

    await expect(pin).rejects.toBeInstanceOf(RejectedError);
    await expect(pin).rejects.toThrow(
      /refused \(NO_APPSPEC\): bundle has no appspec.yml at its root/,
    );
  });

  it("says so when the build left no bundle", async () => {
    await expect(
      pinBuildBundle(await bucketWith(undefined), input, {
        limits: { maxBundleBytes: 1 << 20, maxUnpackedBytes: 1 << 20, maxEntries: 100 },
        workDir: await tempDir(),
      }),
    ).rejects.toThrow(`build b-1 left no bundle at s3://releases/${built.key}`);
  });
});

describe("packing the build's output", () => {
  const tempDir = useTempDirs();

  /**
   * Runs the build's packing command over a clone holding `files` (as the build would, after
   * its commands), and answers the bundle's entries, or the packing's failure.
   */
  async function pack(files: string[], artifacts: { baseDirectory?: string; files?: string[] }) {
    const work = await tempDir();
    for (const file of files) {
      const where = join(work, "source", file);
      await mkdir(dirname(where), { recursive: true });
      await writeFile(where, file);
    }
    const build = PipelineDefinitionSchema.parse({
      build: { commands: ["true"], artifacts },
    }).build;
    if (!build) throw new Error("no build");
    const plan = planBuild(
      build,
      commit,
      "repo",
      "RUN",
      buildBundleOutput("b", "shop", "RUN").override,
    );
    const command = JSON.parse(plan.buildspec).phases.build.commands.at(-1) as string;
    const env = Object.fromEntries(plan.environment.map((v) => [v.Name, v.Value]));
    await promisify(execFile)("bash", ["-c", command], {
      cwd: work,
      env: { PATH: process.env.PATH, ...env, CODEBUILD_SRC_DIR: work },
    });
    const entries = await listEntries(
      join(work, "sluice-bundle/bundle.tgz"),
      "tar.gz",
      DEFAULT_BUNDLE_LIMITS,
    );
    return entries.map((e) => e.path).sort();
  }

  const CLONE = [
    "appspec.yml",
    ".git/HEAD",
    ".git/objects/ab/cdef",
    ".env.example",
    "dist/app.js",
    "dist/lib/util.js",
    "dist/notes.md",
    "docs/name with space.md",
    "-looks-like-an-option",
  ];

  it("packs everything but .git by default, each entry once", async () => {
    expect(await pack(CLONE, {})).toEqual([
      "-looks-like-an-option",
      ".env.example",
      "appspec.yml",
      "dist",
      "dist/app.js",
      "dist/lib",
      "dist/lib/util.js",
      "dist/notes.md",
      "docs",
      "docs/name with space.md",
    ]);
  });

  it("packs what the patterns match, a matched folder with everything in it", async () => {
    expect(await pack(CLONE, { files: ["appspec.yml", "dist/**/*.js", "docs"] })).toEqual([
      "appspec.yml",
      "dist/app.js",
      "dist/lib/util.js",
      "docs",
      "docs/name with space.md",
    ]);
  });

  it("packs from the base directory, as the bundle's root", async () => {
    expect(await pack(CLONE, { baseDirectory: "dist", files: ["*.js", "lib"] })).toEqual([
      "app.js",
      "lib",
      "lib/util.js",
    ]);
  });

  it("fails the build when the base directory is not there, or a named file is missing", async () => {
    await expect(pack(CLONE, { baseDirectory: "build" })).rejects.toThrow(
      "artifacts.baseDirectory 'build' is not a folder of the clone",
    );
    await expect(pack(CLONE, { files: ["README.md"] })).rejects.toThrow("README.md");
    await expect(pack(CLONE, { files: ["out/**"] })).rejects.toThrow("match nothing");
  });
});
