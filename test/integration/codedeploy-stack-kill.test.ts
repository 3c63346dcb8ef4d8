import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  CodeDeployClient,
  CreateDeploymentCommand,
  GetDeploymentCommand,
} from "@aws-sdk/client-codedeploy";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, expect, it } from "vitest";
import { LOCAL_SERVICES } from "../../local/local-services";
import { LOCAL_CREDENTIALS, PROJECT_ROOT } from "../../local/stack";
import { writeBundle } from "../support/bundles";
import { startTestStack, waitFor } from "../support/local-stack";

const children = new Set<ChildProcess>();
let workDir: string | undefined;

afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** `npm start` as a process of its own on free ports; answers the banner's addresses. */
async function startStack(stateDir: string) {
  const child = spawn(process.execPath, ["--import", "tsx", "local/main.ts"], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      SLUICE_STATE_DIR: stateDir,
      LOG_LEVEL: "error",
      ...Object.fromEntries(LOCAL_SERVICES.map((service) => [service.portVariable, "0"])),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.add(child);
  const endpoints = await new Promise<{ codedeploy: string; s3: string }>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const codedeploy = out.match(/CodeDeploy\s+(http:\/\/\S+)/)?.[1];
      const s3 = out.match(/S3\s+(http:\/\/\S+)/)?.[1];
      if (codedeploy && s3 && out.includes("Ctrl-C")) resolve({ codedeploy, s3 });
    });
    child.once("exit", (code) => reject(new Error(`npm start exited (${code}) before serving`)));
  });
  return { child, endpoints };
}

/** Whether the process runs: a killed one its parent has not reaped yet (a zombie) does not. */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
};

it("kills the hook processes a SIGKILLed stack left behind when it starts again, and ends their deployment", async () => {
  workDir = await mkdtemp(path.join(tmpdir(), "sluice-codedeploy-kill-"));
  const stateDir = path.join(workDir, "state");
  const pidFile = path.join(workDir, "hook.pid");
  await mkdir(stateDir, { recursive: true });
  // The fleet file in the state folder declares the group.
  await writeFile(
    path.join(stateDir, "local-fleet.yml"),
    "applications:\n  tiny:\n    groups:\n      solo: { hosts: 1 }\n",
  );
  const bundle = path.join(workDir, "slow.tar.gz");
  await writeBundle(bundle, "tar.gz", [
    {
      path: "appspec.yml",
      content:
        "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: hang.sh\n      timeout: 600\n",
    },
    {
      path: "hang.sh",
      content: `#!/bin/sh\nsleep 600 &\necho $! > ${pidFile}\nwait\n`,
      mode: 0o755,
    },
  ]);
  const { child, endpoints } = await startStack(stateDir);
  const clients = {
    region: "us-east-1",
    credentials: LOCAL_CREDENTIALS,
  };
  const s3 = new S3Client({ ...clients, endpoint: endpoints.s3, forcePathStyle: true });
  await s3.send(
    new PutObjectCommand({
      Bucket: "sluice-local-releases",
      Key: "tiny/slow.tar.gz",
      Body: await readFile(bundle),
    }),
  );
  const codeDeploy = new CodeDeployClient({ ...clients, endpoint: endpoints.codedeploy });
  const { deploymentId } = await codeDeploy.send(
    new CreateDeploymentCommand({
      applicationName: "tiny",
      deploymentGroupName: "solo",
      revision: {
        revisionType: "S3",
        s3Location: { bucket: "sluice-local-releases", key: "tiny/slow.tar.gz", bundleType: "tgz" },
      },
    }),
  );
  const pid = await waitFor(
    async () => Number((await readFile(pidFile, "utf8").catch(() => "")).trim()) || undefined,
    { what: "the hook to start", timeoutMs: 20_000 },
  );
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
  children.delete(child);
  expect(alive(pid)).toBe(true);

  const stack = await startTestStack(stateDir, undefined, undefined, {
    codedeploy: { fleetFile: false },
  });
  try {
    expect(alive(pid)).toBe(false);
    const { deploymentInfo } = await new CodeDeployClient({
      ...clients,
      endpoint: stack.endpoints.codedeploy,
    }).send(new GetDeploymentCommand({ deploymentId: deploymentId as string }));
    expect(deploymentInfo).toMatchObject({
      status: "Failed",
      errorInformation: { code: "AGENT_ISSUE" },
    });
  } finally {
    await stack.cleanup();
  }
});
