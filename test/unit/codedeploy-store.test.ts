import { appendFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CodeDeployStore, type Deployment } from "../../local/codedeploy/store";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

function deployment(id: string, status: Deployment["status"]): Deployment {
  return {
    deploymentId: id,
    applicationName: "shop",
    deploymentGroupName: "prod",
    deploymentGroupId: "g-1",
    deploymentConfigName: "CodeDeployDefault.OneAtATime",
    revision: {
      revisionType: "S3",
      s3Location: { bucket: "releases", key: `shop/${id}.tar.gz`, bundleType: "tgz" },
    },
    status,
    createTime: 1,
    creator: "user",
    fileExistsBehavior: "DISALLOW",
    ignoreApplicationStopFailures: false,
    targets: {},
  };
}

describe("the local CodeDeploy's state on disk", () => {
  it("reads back every deployment, while its state file holds only those not ended", async () => {
    // Prepare
    dir = await mkdtemp(path.join(tmpdir(), "sluice-codedeploy-store-"));
    const store = await CodeDeployStore.open(dir);
    for (let i = 0; i < 20; i++) {
      store.state.deployments[`d-old${i}`] = deployment(`d-old${i}`, "Succeeded");
    }
    store.state.deployments["d-now"] = deployment("d-now", "InProgress");
    await store.save();
    store.state.deployments["d-now"] = deployment("d-now", "Failed");
    store.state.deployments["d-next"] = deployment("d-next", "InProgress");
    await store.save();

    // Act
    const again = await CodeDeployStore.open(dir);

    // Assess
    expect(again.state.deployments).toEqual(store.state.deployments);
    const file = JSON.parse(await readFile(path.join(dir, "state.json"), "utf8"));
    expect(Object.keys(file.deployments)).toEqual(["d-next"]);
  });

  it("leaves out what a crash appended to its archive after the state was last written", async () => {
    // Prepare: an ended deployment archived and written; then a crash between the next
    // archive append and the state write that would have named it.
    dir = await mkdtemp(path.join(tmpdir(), "sluice-codedeploy-store-"));
    const store = await CodeDeployStore.open(dir);
    store.state.deployments["d-1"] = deployment("d-1", "Succeeded");
    store.state.deployments["d-2"] = deployment("d-2", "InProgress");
    await store.save();
    await appendFile(
      path.join(dir, "ended-deployments.jsonl"),
      `${JSON.stringify(deployment("d-2", "Succeeded"))}\n{"deploymentId":"d-3","sta`,
    );

    // Act
    const again = await CodeDeployStore.open(dir);
    again.state.deployments["d-2"] = deployment("d-2", "Stopped");
    await again.save();
    const third = await CodeDeployStore.open(dir);

    // Assess
    expect(Object.keys(third.state.deployments).sort()).toEqual(["d-1", "d-2"]);
    expect(third.state.deployments["d-2"]?.status).toBe("Stopped");
  });
});
