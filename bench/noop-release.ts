import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { create as createTar } from "tar";
import { stringify } from "yaml";
import { BUILT_IN_CONFIGS } from "../local/codedeploy/configs";
import { maxConcurrent } from "../local/codedeploy/rules";

/** The app the deploy bench registers, and the CodeDeploy application of its fleet. */
export const NOOP_APP = "bench-noop";

/** CodeDeploy's hooks in the order its agent runs them, with the script each runs. */
export const HOOKS = [
  ["ApplicationStop", "scripts/application-stop.sh"],
  ["BeforeInstall", "scripts/before-install.sh"],
  ["AfterInstall", "scripts/after-install.sh"],
  ["ApplicationStart", "scripts/application-start.sh"],
  ["ValidateService", "scripts/validate-service.sh"],
] as const;

export interface Target {
  /** The stage as the run names it. */
  stage: string;
  group: string;
  hosts: number;
  config: "CodeDeployDefault.OneAtATime" | "CodeDeployDefault.HalfAtATime";
}

/** Beta and gamma on a host each, then production over ten: one-box, four, five. */
export const TARGETS: readonly Target[] = [
  { stage: "beta", group: "beta", hosts: 1, config: "CodeDeployDefault.OneAtATime" },
  { stage: "gamma", group: "gamma", hosts: 1, config: "CodeDeployDefault.OneAtATime" },
  {
    stage: "production/one-box",
    group: "prod-1",
    hosts: 1,
    config: "CodeDeployDefault.OneAtATime",
  },
  {
    stage: "production/wave-2",
    group: "prod-2",
    hosts: 4,
    config: "CodeDeployDefault.HalfAtATime",
  },
  {
    stage: "production/wave-3",
    group: "prod-3",
    hosts: 5,
    config: "CodeDeployDefault.HalfAtATime",
  },
];
export const APPROVAL_STAGE = "sign-off";

/** How many of a target's hosts CodeDeploy deploys to at once under its config. */
export function atOnce(target: Target): number {
  const config = BUILT_IN_CONFIGS.find((c) => c.deploymentConfigName === target.config);
  if (!config) throw new Error(`no built-in config ${target.config}`);
  return maxConcurrent(config.minimumHealthyHosts, target.hosts);
}

export function fleetFile(): string {
  const groups = Object.fromEntries(TARGETS.map((t) => [t.group, { hosts: t.hosts }]));
  return stringify({ applications: { [NOOP_APP]: { groups } } });
}

/** Beta, gamma, an approval, and the three waves with no bake. */
export function pipelineDefinition(): string {
  const [beta, gamma, ...waves] = TARGETS;
  const deploy = (t: Target | undefined) =>
    t && { deploymentGroup: t.group, deploymentConfig: t.config };
  return stringify({
    executionMode: "queued",
    stages: [
      { name: "beta", deploy: deploy(beta) },
      { name: "gamma", deploy: deploy(gamma) },
      { name: APPROVAL_STAGE, approval: {} },
      {
        name: "production",
        production: {
          waves: waves.map((t, i) => ({
            ...(i === 0 ? { name: "one-box" } : {}),
            ...deploy(t),
            bakeMinutes: 0,
          })),
        },
      },
    ],
  });
}

/**
 * A release bundle (tar.gz) of `version` whose every hook only exits 0: what is measured is
 * the orchestration around the hooks, not the hooks.
 */
export async function writeNoopBundle(file: string, version: string): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), "sluice-bench-noop-"));
  try {
    await mkdir(path.join(dir, "scripts"));
    for (const [, script] of HOOKS) {
      await writeFile(path.join(dir, script), "#!/bin/sh\nexit 0\n");
      await chmod(path.join(dir, script), 0o755);
    }
    await writeFile(path.join(dir, "VERSION"), `${version}\n`);
    const hooks = Object.fromEntries(
      HOOKS.map(([hook, location]) => [hook, [{ location, timeout: 60 }]]),
    );
    await writeFile(
      path.join(dir, "appspec.yml"),
      stringify({ version: "0.0", os: "linux", hooks }),
    );
    await createTar({ gzip: true, file, cwd: dir, portable: true }, ["."]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
