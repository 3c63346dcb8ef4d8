import { rm, writeFile } from "node:fs/promises";
import { userInfo } from "node:os";
import path from "node:path";
import { PassThrough, Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { main } from "../../cli/main";
import type { HostView } from "../../local/codedeploy/local-codedeploy";
import { HELLO_FLEET, HELLO_GROUPS, releaseExample } from "../support/example-releases";
import { api, type FleetStack, startFleetStack, waitFor } from "../support/local-stack";

// biome-ignore lint/suspicious/noExplicitAny: tests read answers loosely and assert on them
type Json = any;

const WAVES = ["prod-1", "prod-2", "prod-3"];
const USER = `arn:aws:iam::000000000000:user/${userInfo().username}`;

/**
 * Beta, gamma, a sign-off, then production in three waves; the one-box wave bakes 10 minutes
 * (0.6 s here). Deployments may take a day (86 s here), so a busy machine never times one out.
 */
const slow = { timeoutMinutes: 24 * 60 };
const DEFINITION = stringify({
  executionMode: "queued",
  stages: [
    { name: "beta", deploy: { deploymentGroup: "beta", ...slow } },
    { name: "gamma", deploy: { deploymentGroup: "gamma", ...slow } },
    { name: "sign-off", approval: {} },
    {
      name: "production",
      production: {
        waves: [
          { name: "one-box", deploymentGroup: "prod-1", bakeMinutes: 10, ...slow },
          { deploymentGroup: "prod-2", deploymentConfig: "CodeDeployDefault.HalfAtATime", ...slow },
          { deploymentGroup: "prod-3", deploymentConfig: "CodeDeployDefault.HalfAtATime", ...slow },
        ],
      },
    },
  ],
});

let stack: FleetStack;
let workDir: string;
/** While it exists, version 1.0.0 fails ValidateService on wave 2's hosts. */
let failMarker: string;

beforeAll(async () => {
  stack = await startFleetStack("sluice-rollback-to-", HELLO_FLEET, {
    // A minute's bake lasts 60 ms.
    timing: { taskTimeoutScale: 0.001 },
    codedeploy: { hookTimeoutScale: 0.1 },
  });
  workDir = stack.workDir;
  failMarker = path.join(workDir, "fail-prod-2");
  expect((await api(stack, "PUT", "/apps/hello", DEFINITION)).status).toBe(201);
});
afterAll(() => stack?.cleanup());

function hosts(group: string): HostView[] {
  return stack.services.codedeploy.hosts().filter((h) => h.groups.includes(`hello/${group}`));
}

const upload = (version: string, validate = "") =>
  releaseExample(stack, workDir, version, validate);

async function ended(runId: string): Promise<Json> {
  const started = Date.now();
  const run = await waitFor(
    async () => {
      const { body } = await api(stack, "GET", `/runs/${runId}`);
      if (body.stages?.find((s: Json) => s.name === "sign-off")?.status === "RUNNING") {
        await api(stack, "POST", `/runs/${runId}/approval`, { decision: "approve" });
      }
      return ["SUCCEEDED", "FAILED", "ROLLED_BACK", "STOPPED"].includes(body.status)
        ? body
        : undefined;
    },
    { what: `run ${runId} to end`, timeoutMs: 90_000, intervalMs: 100 },
  );
  console.log(
    `run ${runId} (${run.kind} ${run.revision.key}) ended ${run.status} in ${Date.now() - started} ms${run.error ? `: ${run.error.error}: ${run.error.cause}` : ""}`,
  );
  return run;
}

/** Each host's revision, as the local CodeDeploy records it and as the host serves it; printed. */
async function revisions(scenario: string): Promise<Record<string, string[]>> {
  const served: Record<string, string[]> = {};
  for (const group of HELLO_GROUPS) {
    served[group] = await Promise.all(
      hosts(group).map(async (host) => {
        const res = await fetch(`${host.url}/health`, { signal: AbortSignal.timeout(2000) });
        const { version } = (await res.json()) as { version: string };
        const recorded = host.revision?.key ?? "none";
        return recorded === `hello/${version}.tar.gz` ? version : `${recorded} serving ${version}`;
      }),
    );
  }
  console.log(`per-host revisions after ${scenario}:`, JSON.stringify(served));
  return served;
}

/** `sluice <args>` in this process against the stack, with no terminal: a script's view. */
async function sluice(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main([...args, "--api", stack.endpoints.api], {
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    env: {},
    input: { stdin: Readable.from([]), stdout: new PassThrough() },
  });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

async function runCount(): Promise<number> {
  return (await api(stack, "GET", "/apps/hello/runs")).body.runs.length;
}

describe("a rollback to a named release, over ten production hosts in three waves", () => {
  it("puts every host of every wave back on 1.0.0 after 2.0.0, through the waves only, recorded as a rollback", async () => {
    // 1.0.0 fails wave 2 only while the marker exists (the next test's failure).
    const one = await ended(
      await upload(
        "1.0.0",
        `if [ -e ${failMarker} ] && [ "$DEPLOYMENT_GROUP_NAME" = prod-2 ]; then echo "unhealthy" >&2; exit 1; fi`,
      ),
    );
    const two = await ended(await upload("2.0.0"));
    expect([one.status, two.status]).toEqual(["SUCCEEDED", "SUCCEEDED"]);
    const released = await revisions("releases 1.0.0 then 2.0.0");
    for (const group of HELLO_GROUPS)
      expect(released[group]?.every((v) => v === "2.0.0")).toBe(true);
    const before = await runCount();

    const planned = await sluice("rollback", "hello", "--to", "1.0.0", "--dry-run");
    const refused = await sluice("rollback", "hello", "--to", "1.0.0");
    const unknown = await sluice("rollback", "hello", "--to", "9.9.9", "--yes");
    expect(await runCount()).toBe(before);
    const started = await sluice(
      "rollback",
      "hello",
      "--to",
      "1.0.0",
      "--yes",
      "--reason",
      "2.0.0 breaks checkout",
    );

    console.log(planned.stdout);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toContain(
      "rollback of hello to 1.0.0, through the production waves only",
    );
    expect(planned.stdout).toMatch(
      /production\/one-box +deploy to prod-1 \(CodeDeployDefault\.OneAtATime\): 2\.0\.0 → 1\.0\.0/,
    );
    expect(planned.stdout).toMatch(
      /production\/wave-3 +deploy to prod-3 \(CodeDeployDefault\.HalfAtATime\): 2\.0\.0 → 1\.0\.0/,
    );
    for (const passed of ["beta", "gamma", "sign-off", "production/one-box/bake"]) {
      expect(planned.stdout).toContain(`passed by: ${passed} (`);
    }
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/no terminal to confirm the rollback on: pass --yes/);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/404 version 9\.9\.9 of app hello was never released/);
    expect(started.code, started.stderr).toBe(0);
    const runId = /^run ([0-9A-Z]{26}) QUEUED \(rollback of hello to 1\.0\.0\)$/m.exec(
      started.stdout,
    )?.[1];
    expect(runId, started.stdout).toBeDefined();
    const run = await ended(runId ?? "");

    expect(run.status, JSON.stringify(run.error)).toBe("SUCCEEDED");
    expect(run.kind).toBe("rollback");
    expect(run.trigger).toEqual({
      type: "api",
      by: USER,
      actor: USER,
      reason: "2.0.0 breaks checkout",
    });
    expect(run.revision.key).toBe("hello/1.0.0.tar.gz");
    expect(run.stages.map((s: Json) => [s.name, s.status])).toEqual([
      ["source", "SUCCEEDED"],
      ["build", "SKIPPED"],
      ["production/one-box", "SUCCEEDED"],
      ["production/wave-2", "SUCCEEDED"],
      ["production/wave-3", "SUCCEEDED"],
    ]);
    const served = await revisions("rollback --to 1.0.0");
    for (const group of WAVES) expect(served[group]?.every((v) => v === "1.0.0")).toBe(true);
    expect(served[WAVES.at(-1) ?? ""]).toHaveLength(5);
    // Beta and gamma are no production wave: a rollback leaves them be.
    expect([served.beta, served.gamma]).toEqual([["2.0.0"], ["2.0.0"]]);
    const shown = await sluice("run", run.id);
    expect(shown.stdout).toContain("kind      rollback");
    expect(shown.stdout).toContain(`trigger   api by ${USER} (2.0.0 breaks checkout)`);
    const events = (await stack.eventBridge.read()).filter(
      (e) => (e.detail as { runId?: string }).runId === run.id,
    );
    expect(events.map((e) => e["detail-type"]).slice(0, 3)).toEqual([
      "Run Queued",
      "Run Started",
      "Rollback Started",
    ]);
    expect(events.every((e) => (e.detail as { kind?: string }).kind === "rollback")).toBe(true);
    expect(events.find((e) => e["detail-type"] === "Rollback Started")?.detail).toMatchObject({
      stages: ["production/one-box", "production/wave-2", "production/wave-3"],
      requested: { version: "1.0.0", by: USER, reason: "2.0.0 breaks checkout", bake: false },
    });
  }, 240_000);

  it("returns each wave it touched to what it ran before when a wave fails during the rollback", async () => {
    // Production back on 2.0.0 first (a rollback may name any release, a later one too).
    const forward = await sluice("rollback", "hello", "--to", "2.0.0", "--yes");
    expect(forward.code, forward.stderr).toBe(0);
    const again = await ended(/^run ([0-9A-Z]{26}) /m.exec(forward.stdout)?.[1] ?? "");
    expect(again.status).toBe("SUCCEEDED");
    await writeFile(failMarker, "");

    const started = await sluice("rollback", "hello", "--to", "1.0.0", "--yes", "--bake");
    const run = await ended(/^run ([0-9A-Z]{26}) /m.exec(started.stdout)?.[1] ?? "");

    expect(run.status).toBe("ROLLED_BACK");
    expect(run.kind).toBe("rollback");
    expect(run.stages.map((s: Json) => [s.name, s.status])).toEqual([
      ["source", "SUCCEEDED"],
      ["build", "SKIPPED"],
      ["production/one-box", "SUCCEEDED"],
      ["production/one-box/bake", "SUCCEEDED"],
      ["production/wave-2", "FAILED"],
    ]);
    // Newest first: wave 2 (failed half-way) and the one-box wave, each back to 2.0.0.
    expect(
      run.steps
        .filter((s: Json) => s.rollback)
        .map((s: Json) => [s.step, s.rollback.status, s.rollback.message.split(" by ")[0]]),
    ).toEqual(
      expect.arrayContaining([
        ["production/one-box", "SUCCEEDED", "rolled back to hello/2.0.0.tar.gz"],
        ["production/wave-2", "SUCCEEDED", "rolled back to hello/2.0.0.tar.gz"],
      ]),
    );
    const served = await revisions("a rollback to 1.0.0 failing on wave 2, rolled back");
    for (const group of HELLO_GROUPS) expect(served[group]?.every((v) => v === "2.0.0")).toBe(true);
    await rm(failMarker);
  }, 150_000);
});
