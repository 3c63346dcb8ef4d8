import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readFleetFile } from "../../local/codedeploy/fleet-file";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function fleetFile(text: string) {
  const dir = await mkdtemp(path.join(tmpdir(), "sluice-fleet-"));
  dirs.push(dir);
  const file = path.join(dir, "local-fleet.yml");
  await writeFile(file, text);
  return file;
}

describe("local-fleet.yml", () => {
  it("reads groups with their host counts, configs, auto-rollback and alarms", async () => {
    const fleet = await readFleetFile(
      await fleetFile(`
deploymentConfigs:
  Hello.Forty: { type: FLEET_PERCENT, value: 40 }
applications:
  hello:
    groups:
      beta: { hosts: 1 }
      prod: { hosts: 10, deploymentConfig: Hello.Forty, autoRollback: [DEPLOYMENT_FAILURE], alarms: [Errors] }
`),
    );
    expect(fleet).toEqual({
      deploymentConfigs: { "Hello.Forty": { type: "FLEET_PERCENT", value: 40 } },
      applications: {
        hello: {
          groups: {
            beta: { hosts: 1, deploymentConfig: "CodeDeployDefault.OneAtATime" },
            prod: {
              hosts: 10,
              deploymentConfig: "Hello.Forty",
              autoRollback: ["DEPLOYMENT_FAILURE"],
              alarms: ["Errors"],
            },
          },
        },
      },
    });
  });

  it("is optional", async () => {
    expect(
      await readFleetFile(path.join(tmpdir(), "no-such-folder", "local-fleet.yml")),
    ).toBeUndefined();
  });

  it("names every problem by its path", async () => {
    const file = await fleetFile(`
applications:
  hello:
    groups:
      beta: { hosts: -1 }
      gamma: { hosts: 2, autoRollback: [WHENEVER], colour: blue }
`);
    const error = await readFleetFile(file).catch((err: Error) => err);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain(`${file} is invalid`);
    expect(message).toContain("applications.hello.groups.beta.hosts");
    expect(message).toContain("applications.hello.groups.gamma.autoRollback.0");
    expect(message).toContain("colour");
  });
});
