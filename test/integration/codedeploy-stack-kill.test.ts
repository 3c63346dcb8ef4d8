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
import { LOCAL_CREDENTIALS } from "../../local/stack";
import { writeBundle } from "../support/bundles";
import { startTestStack, waitFor } from "../support/local-stack";
import { alive } from "../support/sfn-probes";
import { killStackProcesses, startStackProcess } from "../support/stack-process";

let workDir: string | undefined;

afterAll(async () => {
  killStackProcesses();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

// Two starts of npm start, each a process booting the stack: on a loaded machine they take
// most of the default 30 s.
it("kills the hook processes a SIGKILLed stack left behind when it starts again, and ends their deployment", {
  timeout: 60_000,
}, async () => {
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
  const first = await startStackProcess(stateDir);
  const { endpoints } = first;
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
  await first.kill();
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
