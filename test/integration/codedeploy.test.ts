import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  AddTagsToOnPremisesInstancesCommand,
  BatchGetApplicationsCommand,
  BatchGetDeploymentGroupsCommand,
  BatchGetDeploymentInstancesCommand,
  BatchGetDeploymentTargetsCommand,
  BatchGetOnPremisesInstancesCommand,
  CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentCommand,
  CreateDeploymentConfigCommand,
  CreateDeploymentGroupCommand,
  GetApplicationCommand,
  GetDeploymentCommand,
  GetDeploymentConfigCommand,
  GetDeploymentGroupCommand,
  GetDeploymentInstanceCommand,
  GetDeploymentTargetCommand,
  GetOnPremisesInstanceCommand,
  ListApplicationsCommand,
  ListDeploymentConfigsCommand,
  ListDeploymentGroupsCommand,
  ListDeploymentInstancesCommand,
  ListDeploymentTargetsCommand,
  ListOnPremisesInstancesCommand,
  RegisterOnPremisesInstanceCommand,
  RemoveTagsFromOnPremisesInstancesCommand,
  StopDeploymentCommand,
  UpdateDeploymentGroupCommand,
} from "@aws-sdk/client-codedeploy";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { create as createTar } from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HostTransition } from "../../local/codedeploy/deployment-runner";
import type { BusEvent } from "../../local/eventbridge";
import { LOCAL_CREDENTIALS } from "../../local/stack";
import { writeBundle } from "../support/bundles";
import { portsOf, startTestStack, waitFor, workerHostPortBase } from "../support/local-stack";

type Stack = Awaited<ReturnType<typeof startTestStack>>;

const FLEET = `
deploymentConfigs:
  Test.AllButThree: { type: HOST_COUNT, value: 3 }
applications:
  hello:
    groups:
      web: { hosts: 3, deploymentConfig: CodeDeployDefault.AllAtOnce }
  tiny:
    groups:
      half: { hosts: 10, deploymentConfig: CodeDeployDefault.HalfAtATime }
      one: { hosts: 4 }
      three: { hosts: 3, deploymentConfig: CodeDeployDefault.AllAtOnce }
      guarded: { hosts: 2, deploymentConfig: CodeDeployDefault.AllAtOnce, autoRollback: [DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_REQUEST] }
      watched: { hosts: 1, alarms: [HighErrors], autoRollback: [DEPLOYMENT_STOP_ON_ALARM] }
`;

let stack: Stack;
let workDir: string;
let codeDeploy: CodeDeployClient;
let s3: S3Client;
const options = () => ({
  // Hook timeouts at a tenth: a 5 s timeout ends a hook after half a second.
  codedeploy: {
    hostPortBase: workerHostPortBase(),
    hookTimeoutScale: 0.1,
    fleetFile: path.join(workDir, "local-fleet.yml"),
  },
});

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), "sluice-codedeploy-"));
  await writeFile(path.join(workDir, "local-fleet.yml"), FLEET);
  stack = await startTestStack(path.join(workDir, "state"), undefined, undefined, options());
  codeDeploy = new CodeDeployClient({
    endpoint: stack.endpoints.codedeploy,
    region: "us-east-1",
    credentials: LOCAL_CREDENTIALS,
  });
  s3 = new S3Client({
    endpoint: stack.endpoints.s3,
    region: "us-east-1",
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
  });
});

afterAll(async () => {
  await stack?.cleanup();
  await rm(workDir, { recursive: true, force: true });
});

/** Uploads a bundle file to the releases bucket: the revision of a CreateDeployment. */
async function upload(file: string, key: string) {
  await s3.send(
    new PutObjectCommand({
      Bucket: stack.resources.releasesBucket,
      Key: key,
      Body: await readFile(file),
    }),
  );
  return {
    revisionType: "S3" as const,
    s3Location: { bucket: stack.resources.releasesBucket, key, bundleType: "tgz" as const },
  };
}

/** The example app as a bundle, its VERSION file saying `version`. */
async function exampleBundle(version: string) {
  const dir = await mkdtemp(path.join(workDir, "hello-"));
  await cp(path.resolve("examples/hello-service"), dir, { recursive: true });
  await writeFile(path.join(dir, "VERSION"), `${version}\n`);
  const file = path.join(workDir, `hello-${version}.tar.gz`);
  await createTar({ gzip: true, file, cwd: dir }, ["."]);
  return upload(file, `hello/${version}.tar.gz`);
}

/** A bundle of tiny shell hooks; `validate` is the ValidateService script's body. */
async function tinyBundle(
  name: string,
  hooks: { beforeInstall?: string; validate?: string; timeout?: number } = {},
) {
  const file = path.join(workDir, `${name}.tar.gz`);
  const script = (body: string) => `#!/bin/sh\n${body}\n`;
  await writeBundle(file, "tar.gz", [
    {
      path: "appspec.yml",
      content: `version: 0.0
os: linux
files:
  - source: /site
    destination: /srv/tiny
hooks:
  BeforeInstall:
    - location: scripts/before-install.sh
      timeout: ${hooks.timeout ?? 60}
  ValidateService:
    - location: scripts/validate.sh
      timeout: 60
`,
    },
    { path: "site/name.txt", content: `${name}\n` },
    {
      path: "scripts/before-install.sh",
      content: script(hooks.beforeInstall ?? "sleep 0.05"),
      mode: 0o755,
    },
    { path: "scripts/validate.sh", content: script(hooks.validate ?? "echo ok"), mode: 0o755 },
  ]);
  return upload(file, `tiny/${name}.tar.gz`);
}

async function deploy(
  applicationName: string,
  deploymentGroupName: string,
  revision: Awaited<ReturnType<typeof tinyBundle>>,
  extra: { deploymentConfigName?: string } = {},
) {
  const { deploymentId } = await codeDeploy.send(
    new CreateDeploymentCommand({ applicationName, deploymentGroupName, revision, ...extra }),
  );
  return deploymentId as string;
}

const ended = async (id: string) => {
  await stack.services.codedeploy.deploymentEnded(id);
  return (await codeDeploy.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo;
};

const hostsOf = (group: string) =>
  stack.services.codedeploy
    .hosts()
    .filter((h) => h.groups.includes(group))
    .sort((a, b) => a.name.localeCompare(b.name));

async function health(url: string) {
  const response = await fetch(`${url}/health`);
  return ((await response.json()) as { version: string }).version;
}

describe("the local CodeDeploy", () => {
  it("declares the fleet file's groups and hosts as CodeDeploy objects", async () => {
    const { applications } = await codeDeploy.send(new ListApplicationsCommand({}));
    expect(applications).toEqual(["hello", "tiny"]);
    const { deploymentGroupInfo } = await codeDeploy.send(
      new GetDeploymentGroupCommand({ applicationName: "tiny", deploymentGroupName: "half" }),
    );
    expect(deploymentGroupInfo).toMatchObject({
      deploymentConfigName: "CodeDeployDefault.HalfAtATime",
      onPremisesInstanceTagFilters: [
        { Key: "local-fleet", Value: "tiny/half", Type: "KEY_AND_VALUE" },
      ],
    });
    const { instanceNames } = await codeDeploy.send(
      new ListOnPremisesInstancesCommand({
        tagFilters: [{ Key: "local-fleet", Value: "tiny/half", Type: "KEY_AND_VALUE" }],
      }),
    );
    expect(instanceNames).toHaveLength(10);
    const { instanceInfo } = await codeDeploy.send(
      new GetOnPremisesInstanceCommand({ instanceName: "hello-web-1" }),
    );
    expect(instanceInfo?.tags).toEqual([{ Key: "local-fleet", Value: "hello/web" }]);
    const { deploymentConfigInfo } = await codeDeploy.send(
      new GetDeploymentConfigCommand({ deploymentConfigName: "CodeDeployDefault.OneAtATime" }),
    );
    expect(deploymentConfigInfo?.minimumHealthyHosts).toEqual({
      type: "MOST_CONCURRENCY",
      value: 1,
    });
  });

  it("tags on-premises instances and takes tags off, as a deployment group's tag filter finds them", async () => {
    const team = [{ Key: "team", Value: "checkout", Type: "KEY_AND_VALUE" as const }];
    const tagged = async () =>
      (await codeDeploy.send(new ListOnPremisesInstancesCommand({ tagFilters: team })))
        .instanceNames;

    await codeDeploy.send(
      new AddTagsToOnPremisesInstancesCommand({
        instanceNames: ["hello-web-1", "hello-web-2"],
        tags: [{ Key: "team", Value: "checkout" }],
      }),
    );
    const added = await tagged();
    await codeDeploy.send(
      new RemoveTagsFromOnPremisesInstancesCommand({
        instanceNames: ["hello-web-1"],
        tags: [{ Key: "team", Value: "checkout" }],
      }),
    );
    const { instanceInfo } = await codeDeploy.send(
      new GetOnPremisesInstanceCommand({ instanceName: "hello-web-1" }),
    );
    const unknown = await codeDeploy
      .send(
        new AddTagsToOnPremisesInstancesCommand({
          instanceNames: ["no-such-host"],
          tags: [{ Key: "team", Value: "checkout" }],
        }),
      )
      .catch((err: Error) => err);

    expect(added).toEqual(["hello-web-1", "hello-web-2"]);
    expect(await tagged()).toEqual(["hello-web-2"]);
    // Its fleet tag stays: only the tag named was taken off.
    expect(instanceInfo?.tags).toEqual([{ Key: "local-fleet", Value: "hello/web" }]);
    expect(unknown).toMatchObject({ name: "InstanceNotRegisteredException" });
    await codeDeploy.send(
      new RemoveTagsFromOnPremisesInstancesCommand({
        instanceNames: ["hello-web-2"],
        tags: [{ Key: "team", Value: "checkout" }],
      }),
    );
  });

  it("deploys the example app to 3 hosts, each serving it on its own port, then rolls out a new version one host at a time", async () => {
    const first = await ended(await deploy("hello", "web", await exampleBundle("1.0.0")));
    expect(first).toMatchObject({
      status: "Succeeded",
      deploymentOverview: { Succeeded: 3, Failed: 0 },
    });
    const hosts = hostsOf("hello/web");
    expect(new Set(hosts.map((h) => h.port)).size).toBe(3);
    expect(await Promise.all(hosts.map((h) => health(h.url)))).toEqual(["1.0.0", "1.0.0", "1.0.0"]);

    // While the first host runs 2.0.0, the others still serve 1.0.0, side by side.
    const sideBySide: Promise<string[]>[] = [];
    const unsubscribe = stack.services.codedeploy.onHostTransition((t) => {
      if (t.status === "Succeeded" && sideBySide.length === 0) {
        sideBySide.push(Promise.all(hosts.map((h) => health(h.url))));
      }
    });
    const second = await ended(
      await deploy("hello", "web", await exampleBundle("2.0.0"), {
        deploymentConfigName: "CodeDeployDefault.OneAtATime",
      }),
    );
    unsubscribe();
    expect(second?.status).toBe("Succeeded");
    expect((await sideBySide[0])?.sort()).toEqual(["1.0.0", "1.0.0", "2.0.0"]);
    expect(await Promise.all(hosts.map((h) => health(h.url)))).toEqual(["2.0.0", "2.0.0", "2.0.0"]);
    expect(hostsOf("hello/web").map((h) => h.revision?.key)).toEqual(
      Array(3).fill("hello/2.0.0.tar.gz"),
    );
  });

  it("never has more than half of 10 hosts out of service with HalfAtATime, nor 2 with OneAtATime", async () => {
    const outOfService = async (group: string, config?: string) => {
      const seen: HostTransition[] = [];
      const unsubscribe = stack.services.codedeploy.onHostTransition((t) => seen.push(t));
      const revision = await tinyBundle(`sampled-${group}-${config ?? "default"}`);
      const id = await deploy(
        "tiny",
        group,
        revision,
        config ? { deploymentConfigName: config } : {},
      );
      expect((await ended(id))?.status).toBe("Succeeded");
      unsubscribe();
      return Math.max(...seen.filter((t) => t.deploymentId === id).map((t) => t.outOfService));
    };
    expect(await outOfService("half")).toBe(5);
    expect(await outOfService("one")).toBe(1);
  });

  it("fails the host whose ValidateService fails, and the deployment, with the right counts and the hook's log tail", async () => {
    const good = await ended(await deploy("tiny", "one", await tinyBundle("one-good")));
    expect(good?.status).toBe("Succeeded");
    const revision = await tinyBundle("one-bad", {
      validate:
        'echo "checking $SLUICE_HOST_NAME"\n[ "$SLUICE_HOST_NAME" != tiny-one-2 ] || { echo "health check failed" >&2; exit 3; }',
    });
    const id = await deploy("tiny", "one", revision);
    const failed = await ended(id);
    expect(failed).toMatchObject({
      status: "Failed",
      errorInformation: { code: "HEALTH_CONSTRAINTS" },
      deploymentOverview: { Succeeded: 1, Failed: 1, Skipped: 2, Pending: 0, InProgress: 0 },
    });
    const { instancesList } = await codeDeploy.send(
      new ListDeploymentInstancesCommand({ deploymentId: id, instanceStatusFilter: ["Failed"] }),
    );
    expect(instancesList).toEqual(["tiny-one-2"]);
    const { deploymentTarget } = await codeDeploy.send(
      new GetDeploymentTargetCommand({ deploymentId: id, targetId: "tiny-one-2" }),
    );
    const validate = deploymentTarget?.instanceTarget?.lifecycleEvents?.find(
      (e) => e.lifecycleEventName === "ValidateService",
    );
    expect(validate).toMatchObject({
      status: "Failed",
      diagnostics: { errorCode: "ScriptFailed", scriptName: "scripts/validate.sh" },
    });
    expect(validate?.diagnostics?.message).toContain("failed with exit code 3");
    expect(validate?.diagnostics?.logTail).toContain("[stderr]health check failed");
    expect(
      deploymentTarget?.instanceTarget?.lifecycleEvents?.map((e) => e.lifecycleEventName),
    ).toEqual([
      "ApplicationStop",
      "DownloadBundle",
      "BeforeInstall",
      "Install",
      "AfterInstall",
      "ApplicationStart",
      "ValidateService",
    ]);
    // Hosts never attempted keep their revision; the group's revision does not change.
    const revisions = hostsOf("tiny/one").map((h) => h.revision?.key);
    expect(revisions).toEqual([
      "tiny/one-bad.tar.gz",
      "tiny/one-good.tar.gz",
      "tiny/one-good.tar.gz",
      "tiny/one-good.tar.gz",
    ]);
    expect(hostsOf("tiny/one").map((h) => h.healthy)).toEqual([true, false, true, true]);
    // The failed host has the new files installed; it runs the old revision's scripts next.
    expect(hostsOf("tiny/one")[1]?.installedDeploymentId).toBe(id);
    const { deploymentGroupInfo } = await codeDeploy.send(
      new GetDeploymentGroupCommand({ applicationName: "tiny", deploymentGroupName: "one" }),
    );
    expect(deploymentGroupInfo?.targetRevision?.s3Location?.key).toBe("tiny/one-good.tar.gz");
    // The unhealthy host goes first next time.
    const next = await deploy("tiny", "one", await tinyBundle("one-fixed"));
    const { targetIds } = await codeDeploy.send(
      new ListDeploymentTargetsCommand({ deploymentId: next }),
    );
    expect(targetIds?.[0]).toBe("tiny-one-2");
    expect((await ended(next))?.status).toBe("Succeeded");
  });

  it("fails a host whose hook outlives its timeout, killing it", async () => {
    const id = await deploy(
      "tiny",
      "three",
      await tinyBundle("slow", { beforeInstall: "echo waiting\nsleep 30", timeout: 5 }),
    );
    const info = await ended(id);
    expect(info).toMatchObject({ status: "Failed", deploymentOverview: { Failed: 3 } });
    const { deploymentTarget } = await codeDeploy.send(
      new GetDeploymentTargetCommand({ deploymentId: id, targetId: "tiny-three-1" }),
    );
    const beforeInstall = deploymentTarget?.instanceTarget?.lifecycleEvents?.find(
      (e) => e.lifecycleEventName === "BeforeInstall",
    );
    expect(beforeInstall?.diagnostics).toMatchObject({
      errorCode: "ScriptTimedOut",
      message:
        "Script at specified location: scripts/before-install.sh failed to complete in 5 seconds",
      logTail: "[stdout]waiting\n",
    });
  });

  it("fails at once when the minimum healthy hosts is at or above the fleet size", async () => {
    await codeDeploy.send(
      new CreateDeploymentConfigCommand({
        deploymentConfigName: "Test.AllThree",
        minimumHealthyHosts: { type: "FLEET_PERCENT", value: 99 },
      }),
    );
    for (const config of ["Test.AllButThree", "Test.AllThree"]) {
      const info = await ended(
        await deploy("tiny", "three", await tinyBundle("never"), { deploymentConfigName: config }),
      );
      expect(info).toMatchObject({
        status: "Failed",
        errorInformation: { code: "HEALTH_CONSTRAINTS_INVALID" },
        deploymentOverview: { Skipped: 3 },
      });
    }
  });

  it("stops a deployment mid-way, ending its hook processes, and rolls back on request", async () => {
    const good = await ended(await deploy("tiny", "guarded", await tinyBundle("guarded-good")));
    expect(good?.status).toBe("Succeeded");
    const pidFile = path.join(workDir, "hook.pid");
    const id = await deploy(
      "tiny",
      "guarded",
      await tinyBundle("guarded-slow", { beforeInstall: `echo $$ >> ${pidFile}\nsleep 30` }),
    );
    const pids = await waitFor(
      async () => {
        const text = await readFile(pidFile, "utf8").catch(() => "");
        const found = text.split("\n").filter(Boolean).map(Number);
        return found.length === 2 ? found : undefined;
      },
      { what: "both hosts' BeforeInstall to start" },
    );
    await codeDeploy.send(new StopDeploymentCommand({ deploymentId: id }));
    const stopped = await ended(id);
    expect(stopped).toMatchObject({ status: "Stopped", errorInformation: { code: "MANUAL_STOP" } });
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    // The group rolls back on a stop request: a new deployment of the last good revision.
    const rollbackId = stopped?.rollbackInfo?.rollbackDeploymentId as string;
    const rollback = await ended(rollbackId);
    expect(rollback).toMatchObject({
      status: "Succeeded",
      creator: "codeDeployRollback",
      rollbackInfo: { rollbackTriggeringDeploymentId: id },
      revision: { s3Location: { key: "tiny/guarded-good.tar.gz" } },
    });
  });

  it("rolls back a failed deployment to the last good revision when the group says so", async () => {
    const bad = await ended(
      await deploy("tiny", "guarded", await tinyBundle("guarded-bad", { validate: "exit 1" })),
    );
    expect(bad).toMatchObject({ status: "Failed", deploymentOverview: { Failed: 2 } });
    const rollback = await ended(bad?.rollbackInfo?.rollbackDeploymentId as string);
    expect(rollback?.status).toBe("Succeeded");
    expect(hostsOf("tiny/guarded").map((h) => h.revision?.key)).toEqual(
      Array(2).fill("tiny/guarded-good.tar.gz"),
    );
    const { deploymentTargets } = await codeDeploy.send(
      new BatchGetDeploymentTargetsCommand({
        deploymentId: rollback?.deploymentId as string,
        targetIds: ["tiny-guarded-1"],
      }),
    );
    expect(deploymentTargets?.[0]?.instanceTarget?.status).toBe("Succeeded");
  });

  it("stops a deployment when one of its group's alarms goes to ALARM, and rolls back", async () => {
    expect(
      (await ended(await deploy("tiny", "watched", await tinyBundle("watched-good"))))?.status,
    ).toBe("Succeeded");
    const started = path.join(workDir, "watched.started");
    const id = await deploy(
      "tiny",
      "watched",
      await tinyBundle("watched-slow", { beforeInstall: `touch ${started}\nsleep 30` }),
    );
    await waitFor(async () => (await readFile(started).catch(() => undefined)) && true, {
      what: "the slow hook to start",
    });
    const alarm = (alarmName: string) => ({
      Source: "aws.cloudwatch",
      DetailType: "CloudWatch Alarm State Change",
      Detail: JSON.stringify({
        alarmName,
        state: { value: "ALARM" },
        previousState: { value: "OK" },
      }),
    });
    await stack.eventBridge.put([alarm("SomeoneElses"), alarm("HighErrors")]);
    const stopped = await ended(id);
    expect(stopped).toMatchObject({
      status: "Stopped",
      errorInformation: { code: "ALARM_ACTIVE" },
    });
    expect(stopped?.errorInformation?.message).toContain("HighErrors");
    const rollback = await ended(stopped?.rollbackInfo?.rollbackDeploymentId as string);
    expect(rollback).toMatchObject({
      status: "Succeeded",
      revision: { s3Location: { key: "tiny/watched-good.tar.gz" } },
    });
  });

  it("puts CodeDeploy's state-change events on the default bus", async () => {
    const seen: BusEvent[] = [];
    const unsubscribe = stack.eventBridge.subscribe((event) => seen.push(event));
    const id = await deploy("tiny", "three", await tinyBundle("announced"));
    await ended(id);
    const events = await waitFor(async () => {
      const mine = seen.filter((e) => (e.detail as { deploymentId?: string }).deploymentId === id);
      return mine.length >= 8 ? mine : undefined;
    });
    unsubscribe();
    const { deploymentGroupInfo } = await codeDeploy.send(
      new GetDeploymentGroupCommand({ applicationName: "tiny", deploymentGroupName: "three" }),
    );
    const deploymentEvents = events.filter(
      (e) => e["detail-type"] === "CodeDeploy Deployment State-change Notification",
    );
    expect(deploymentEvents.map((e) => e.detail)).toEqual([
      {
        region: "us-east-1",
        deploymentId: id,
        instanceGroupId: deploymentGroupInfo?.deploymentGroupId,
        deploymentGroup: "three",
        application: "tiny",
        state: "START",
      },
      {
        region: "us-east-1",
        deploymentId: id,
        instanceGroupId: deploymentGroupInfo?.deploymentGroupId,
        deploymentGroup: "three",
        application: "tiny",
        state: "SUCCESS",
      },
    ]);
    expect(deploymentEvents[0]).toMatchObject({
      source: "aws.codedeploy",
      "event-bus-name": "default",
      resources: [
        "arn:aws:codedeploy:us-east-1:000000000000:application:tiny",
        "arn:aws:codedeploy:us-east-1:000000000000:deploymentgroup:tiny/three",
      ],
    });
    const instanceEvents = events.filter(
      (e) => e["detail-type"] === "CodeDeploy Instance State-change Notification",
    );
    expect(instanceEvents.map((e) => (e.detail as { state: string }).state).sort()).toEqual([
      "START",
      "START",
      "START",
      "SUCCESS",
      "SUCCESS",
      "SUCCESS",
    ]);
  });

  it("keeps applications, groups, hosts and their revisions across a restart", async () => {
    await codeDeploy.send(
      new UpdateDeploymentGroupCommand({
        applicationName: "tiny",
        currentDeploymentGroupName: "three",
        alarmConfiguration: { enabled: true, alarms: [{ name: "errors" }] },
      }),
    );
    const before = stack.services.codedeploy.hosts();
    const ports = portsOf(stack);
    await stack.stop();
    // The hosts' apps go down with the stack.
    await expect(health(hostsOf("hello/web")[0]?.url as string)).rejects.toThrow();
    stack = await startTestStack(path.join(workDir, "state"), ports, undefined, options());
    expect(stack.services.codedeploy.hosts()).toEqual(before);
    const { deploymentGroupInfo } = await codeDeploy.send(
      new GetDeploymentGroupCommand({ applicationName: "tiny", deploymentGroupName: "three" }),
    );
    expect(deploymentGroupInfo?.alarmConfiguration).toEqual({
      enabled: true,
      alarms: [{ name: "errors" }],
    });
    expect((await codeDeploy.send(new ListApplicationsCommand({}))).applications).toEqual([
      "hello",
      "tiny",
    ]);
    // ApplicationStop stops what the stack's start brought up, before 3.0.0 starts.
    const again = await ended(await deploy("hello", "web", await exampleBundle("3.0.0")));
    expect(again?.status).toBe("Succeeded");
    expect(await Promise.all(hostsOf("hello/web").map((h) => health(h.url)))).toEqual([
      "3.0.0",
      "3.0.0",
      "3.0.0",
    ]);
  });

  it("takes an application, a group and an on-premises host set up as the AWS CLI does, and deploys to them", async () => {
    const { applicationId } = await codeDeploy.send(
      new CreateApplicationCommand({ applicationName: "byhand", computePlatform: "Server" }),
    );
    await codeDeploy.send(
      new RegisterOnPremisesInstanceCommand({
        instanceName: "byhand-1",
        iamUserArn: "arn:aws:iam::000000000000:user/byhand",
      }),
    );
    await codeDeploy.send(
      new AddTagsToOnPremisesInstancesCommand({
        instanceNames: ["byhand-1"],
        tags: [{ Key: "app", Value: "byhand" }],
      }),
    );
    await codeDeploy.send(
      new CreateDeploymentGroupCommand({
        applicationName: "byhand",
        deploymentGroupName: "prod",
        serviceRoleArn: "arn:aws:iam::000000000000:role/codedeploy",
        deploymentConfigName: "CodeDeployDefault.OneAtATime",
        onPremisesInstanceTagFilters: [{ Key: "app", Value: "byhand", Type: "KEY_AND_VALUE" }],
      }),
    );

    const { application } = await codeDeploy.send(
      new GetApplicationCommand({ applicationName: "byhand" }),
    );
    const { applicationsInfo } = await codeDeploy.send(
      new BatchGetApplicationsCommand({ applicationNames: ["byhand", "hello"] }),
    );
    const { instanceInfos } = await codeDeploy.send(
      new BatchGetOnPremisesInstancesCommand({ instanceNames: ["byhand-1"] }),
    );
    const { deploymentGroups } = await codeDeploy.send(
      new ListDeploymentGroupsCommand({ applicationName: "byhand" }),
    );
    const { deploymentGroupsInfo } = await codeDeploy.send(
      new BatchGetDeploymentGroupsCommand({
        applicationName: "byhand",
        deploymentGroupNames: ["prod"],
      }),
    );
    const { deploymentConfigsList } = await codeDeploy.send(new ListDeploymentConfigsCommand({}));
    const deployment = await ended(await deploy("byhand", "prod", await tinyBundle("byhand")));
    const { instancesSummary } = await codeDeploy.send(
      new BatchGetDeploymentInstancesCommand({
        deploymentId: deployment?.deploymentId,
        instanceIds: ["byhand-1"],
      }),
    );
    const { instanceSummary } = await codeDeploy.send(
      new GetDeploymentInstanceCommand({
        deploymentId: deployment?.deploymentId,
        instanceId: "byhand-1",
      }),
    );

    expect(application).toMatchObject({ applicationId, applicationName: "byhand" });
    expect(applicationsInfo?.map((a) => a.applicationName)).toEqual(["byhand", "hello"]);
    expect(instanceInfos?.[0]).toMatchObject({
      instanceName: "byhand-1",
      iamUserArn: "arn:aws:iam::000000000000:user/byhand",
      tags: [{ Key: "app", Value: "byhand" }],
    });
    expect(deploymentGroups).toEqual(["prod"]);
    expect(deploymentGroupsInfo?.[0]).toMatchObject({
      deploymentGroupName: "prod",
      deploymentConfigName: "CodeDeployDefault.OneAtATime",
    });
    expect(deploymentConfigsList).toEqual(
      expect.arrayContaining([
        "CodeDeployDefault.OneAtATime",
        "CodeDeployDefault.HalfAtATime",
        "CodeDeployDefault.AllAtOnce",
        "Test.AllButThree",
      ]),
    );
    expect(deployment?.status).toBe("Succeeded");
    expect(instancesSummary?.map((i) => [i.instanceId, i.status])).toEqual([
      [expect.stringContaining("byhand-1"), "Succeeded"],
    ]);
    expect(instanceSummary?.lifecycleEvents?.map((e) => e.lifecycleEventName)).toContain(
      "ValidateService",
    );
  });
});
