import { createHash } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { LOCAL_CREDENTIALS } from "../../local/stack";
import { makeGitRepo } from "../support/git-repo";
import { api, type FleetStack, startFleetStack, waitFor } from "../support/local-stack";

// biome-ignore lint/suspicious/noExplicitAny: tests read answers loosely and assert on them
type Json = any;

const FLEET = "applications:\n  tiny:\n    groups:\n      beta: { hosts: 1 }\n";

/** A tiny app: an appspec that installs everything under /srv/tiny, and hooks that do nothing. */
const APP_FILES = {
  "appspec.yml": stringify({
    version: 0.0,
    os: "linux",
    files: [{ source: "/", destination: "/srv/tiny" }],
    hooks: { ApplicationStart: [{ location: "scripts/noop.sh", timeout: 10 }] },
  }),
  "scripts/noop.sh": "#!/bin/sh\nexit 0\n",
  "README.md": "a tiny app\n",
};

let stack: FleetStack;
let workDir: string;
let repo: { dir: string; commit: string };
let s3: S3Client;

beforeAll(async () => {
  repo = await makeGitRepo(APP_FILES);
  stack = await startFleetStack("sluice-build-bundle-", FLEET);
  workDir = stack.workDir;
  s3 = new S3Client({
    endpoint: stack.endpoints.s3,
    region: "us-east-1",
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
  });
});
afterAll(async () => {
  await stack?.cleanup();
  if (repo) await rm(repo.dir, { recursive: true, force: true });
});

async function register(app: string, build: Record<string, unknown>) {
  const definition = stringify({
    repository: repo.dir,
    executionMode: "parallel",
    codedeploy: { application: "tiny" },
    build,
    stages: [{ name: "beta", deploy: { deploymentGroup: "beta" } }],
  });
  expect((await api(stack, "PUT", `/apps/${app}`, definition)).status).toBe(201);
}

async function runToEnd(app: string): Promise<Json> {
  const created = await api(stack, "POST", `/apps/${app}/runs`, {
    revision: { type: "git", ref: "refs/heads/main", commit: repo.commit },
  });
  expect(created.status).toBe(202);
  return waitFor(
    async () => {
      const { body } = await api(stack, "GET", `/runs/${created.body.id}`);
      return ["SUCCEEDED", "FAILED", "ROLLED_BACK"].includes(body.status) ? body : undefined;
    },
    { what: "the run to end", timeoutMs: 30_000, intervalMs: 50 },
  );
}

async function objectBytes(key: string): Promise<Buffer> {
  const out = await s3.send(
    new GetObjectCommand({ Bucket: stack.resources.releasesBucket, Key: key }),
  );
  return Buffer.from(
    await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

describe("a git run's build makes the bundle its deploy stages deploy", () => {
  it("packs the build's output, pins it with its sha256, and deploys it to the host", async () => {
    await register("tiny", {
      commands: [
        "chmod +x scripts/noop.sh",
        'mkdir -p dist && echo "built $SLUICE_COMMIT" > dist/built.txt',
      ],
    });

    const run = await runToEnd("tiny");

    expect(run.status, JSON.stringify(run.error)).toBe("SUCCEEDED");
    expect(run.stages.map((s: Json) => [s.name, s.status])).toEqual([
      ["source", "SUCCEEDED"],
      ["build", "SUCCEEDED"],
      ["beta", "SUCCEEDED"],
    ]);
    const key = `tiny/builds/${run.id}/bundle.tgz`;
    expect(run.revision).toMatchObject({
      type: "bundle",
      bucket: stack.resources.releasesBucket,
      key,
      etag: expect.any(String),
      source: { type: "git", commit: repo.commit, ref: "refs/heads/main" },
    });
    const bytes = await objectBytes(key);
    expect(run.revision.size).toBe(bytes.length);
    expect(run.revision.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));

    const [host] = stack.services.codedeploy.hosts().filter((h) => h.groups.includes("tiny/beta"));
    const installed = path.join(host?.folder ?? "", "root/srv/tiny");
    expect(await readFile(path.join(installed, "dist/built.txt"), "utf8")).toBe(
      `built ${repo.commit}\n`,
    );
    expect(await readFile(path.join(installed, "README.md"), "utf8")).toBe("a tiny app\n");
    // The clone's history is not part of the release.
    await expect(readFile(path.join(installed, ".git/HEAD"))).rejects.toThrow();

    // The build's upload is no release: the app has this one run, and no refusal was announced.
    const { body: runs } = await api(stack, "GET", "/apps/tiny/runs");
    expect(runs.runs.map((r: Json) => r.id)).toEqual([run.id]);
    const events = await readFile(path.join(workDir, "state", "events.jsonl"), "utf8");
    expect(events).not.toContain("Bundle Rejected");
  });

  it("fails the build step with the rejection when the build's output is not a bundle", async () => {
    await register("no-appspec", {
      commands: ["true"],
      artifacts: { baseDirectory: "scripts" },
    });

    const run = await runToEnd("no-appspec");

    expect(run.status).toBe("FAILED");
    expect(run.stages.find((s: Json) => s.name === "build")).toMatchObject({
      status: "FAILED",
      message: expect.stringContaining("NO_APPSPEC"),
    });
    expect(run.stages.some((s: Json) => s.name === "beta")).toBe(false);
  });
});
