import { spawn } from "node:child_process";
import { cp, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { main } from "../../cli/main";
import { PROJECT_ROOT } from "../../local/stack";
import { packDirectory } from "../support/bundles";
import { api, type FleetStack, startFleetStack, waitFor } from "../support/local-stack";

// biome-ignore lint/suspicious/noExplicitAny: tests read answers loosely and assert on them
type Json = any;

/** One host in beta and two in production's one wave. */
const FLEET = `
applications:
  watch:
    groups:
      beta: { hosts: 1, deploymentConfig: CodeDeployDefault.AllAtOnce }
      prod-1: { hosts: 2, deploymentConfig: CodeDeployDefault.AllAtOnce }
`;
/** Beta, a short soak, a sign-off, then production: one wave baking for an hour (3.6 s scaled). */
const PIPELINE = stringify({
  executionMode: "parallel",
  stages: [
    { name: "beta", deploy: { deploymentGroup: "beta", timeoutMinutes: 600 } },
    { name: "soak", wait: { seconds: 30 } },
    { name: "sign-off", approval: { timeoutMinutes: 600 } },
    {
      name: "production",
      production: {
        waves: [
          { name: "one-box", deploymentGroup: "prod-1", bakeMinutes: 60, timeoutMinutes: 600 },
        ],
      },
    },
  ],
});

let stack: FleetStack;
let workDir: string;

beforeAll(async () => {
  stack = await startFleetStack("sluice-observe-", FLEET, {
    timing: { waitScale: 0.01, taskTimeoutScale: 0.001 },
    codedeploy: { hookTimeoutScale: 0.1 },
  });
  workDir = stack.workDir;
  expect((await api(stack, "PUT", "/apps/watch", PIPELINE)).status).toBe(201);
});
afterAll(() => stack?.cleanup());

/** `sluice <args>` in this process, against the test stack, with no terminal. */
async function sluice(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    [...args, "--api", stack.endpoints.api, "--s3-endpoint", stack.endpoints.s3],
    { stdout: (text) => out.push(text), stderr: (text) => err.push(text), env: {} },
  );
  return { code, stdout: out.join(""), stderr: err.join("") };
}

let versions = 0;
/**
 * Pushes the example app as a new version (`from` another folder than the example's own) and
 * answers what `sluice push` printed.
 */
async function push(...more: string[]) {
  return pushFrom(path.join(PROJECT_ROOT, "examples/hello-service"), ...more);
}

async function pushFrom(dir: string, ...more: string[]) {
  const version = `1.0.${versions++}`;
  const file = await packDirectory(dir, path.join(workDir, `watch-${version}.tar.gz`), "tar.gz");
  const args = ["push", file, "--app", "watch", "--version", version, "--message", "Watch it"];
  const pushed = await sluice(...args, "--author", "Ada <ada@example.com>", ...more);
  const id = /^run ([0-9A-Z]{26}) /m.exec(pushed.stdout)?.[1] as string;
  return { ...pushed, id };
}

const getRun = async (id: string): Promise<Json> => (await api(stack, "GET", `/runs/${id}`)).body;

function waitingForApproval(id: string) {
  return waitFor(
    async () => {
      const run = await getRun(id);
      const step = run.steps.find((s: Json) => s.step === "sign-off");
      // Its request is recorded once the decision can be taken, and announced (Approval
      // Requested, in the audit trail) once it is sent: a decision before then leaves that out.
      return step?.status === "RUNNING" && step.request?.sentAt ? run : undefined;
    },
    { what: `run ${id} to wait at sign-off`, timeoutMs: 30_000 },
  );
}

const decide = (id: string, decision: "approve" | "reject") =>
  api(stack, "POST", `/runs/${id}/approval`, {
    decision,
    ...(decision === "reject" ? { comment: "not today" } : {}),
  });

/**
 * `sluice follow <id>` as its own process in a pseudo-terminal (util-linux's `script`), as a
 * person runs it: what the terminal got, and the exit code.
 */
function followInTerminal(id: string) {
  const command = [
    process.execPath,
    "--import",
    "tsx",
    "cli/sluice.ts",
    "follow",
    id,
    "--api",
    stack.endpoints.api,
    "--interval",
    "0.2",
  ]
    .map((word) => `'${word}'`)
    .join(" ");
  const child = spawn("script", ["-qfec", command, "/dev/null"], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, TERM: "xterm", HOME: process.env.HOME },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  const exited = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
  return {
    output: () => output,
    /** What the terminal shows as text: colours and cursor movements left out. */
    text: () => output.replace(ESCAPES, ""),
    seen: (pattern: RegExp) =>
      waitFor(async () => (pattern.test(output.replace(ESCAPES, "")) ? true : undefined), {
        what: `${pattern} on the terminal`,
        timeoutMs: 30_000,
        intervalMs: 50,
      }),
    /** Keys typed on the terminal. */
    type: (keys: string) => child.stdin.write(keys),
    exited,
  };
}
/** Back up to a block's first row (CSI n F), then clear below (CSI J). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the terminal's own bytes
const REDRAW = /\x1b\[\d+F\x1b\[J/;
// CSI sequences (colours, cursor moves, clearing) and the carriage returns a pty adds.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the terminal's own bytes
const ESCAPES = /\x1b\[[0-9;?]*[A-Za-z]|\r/g;

describe("sluice push", () => {
  it("prints its run first, follows it and stops where it waits for approval, saying how to go on", async () => {
    const pushed = await push();

    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout.split("\n")[1]).toMatch(/^run [0-9A-Z]{26} (QUEUED|RUNNING)/);
    expect(pushed.stdout).toContain("beta");
    expect(pushed.stdout).toContain(
      `run ${pushed.id} waits for approval at sign-off; once decided: sluice follow ${pushed.id}`,
    );
    expect(pushed.stdout).toContain(`decide, as an approver: sluice approve ${pushed.id}`);
    // The run waits on after push returned: nobody else decides it here.
    expect((await decide(pushed.id, "reject")).status).toBe(200);
  });
});

describe("sluice push of a failing revision", () => {
  it("follows the run to its rollback and exits 1", async () => {
    // Its ValidateService fails at once (the quick start's BROKEN file takes the hook's timeout).
    const broken = path.join(workDir, "broken");
    await cp(path.join(PROJECT_ROOT, "examples/hello-service"), broken, { recursive: true });
    await writeFile(
      path.join(broken, "scripts/validate.sh"),
      "#!/bin/bash\necho 'health check failed' >&2\nexit 3\n",
      { mode: 0o755 },
    );

    const pushed = await pushFrom(broken);

    expect(pushed.code).toBe(1);
    expect(pushed.stdout).toMatch(
      /^ {2}beta\s+FAILED\s+beta: Sluice\.DeploymentFailed: .*failed hosts: watch-beta-1 \(ValidateService/m,
    );
    // Under beta's detail (past the longest step's name, production/one-box/bake, and a status):
    // its rollback, or why there was none (no earlier deployment to go back to).
    expect(pushed.stdout).toMatch(/^ {38}rollback (RUNNING|SUCCEEDED|SKIPPED): /m);
    expect(pushed.stdout).toMatch(new RegExp(`^run ${pushed.id} ROLLED_BACK after \\S+: `, "m"));
  });
});

describe("sluice follow in a terminal", () => {
  it("draws a line per stage and wave, counts down the bake, and exits 0 when the run succeeds", async () => {
    const { id } = await push("--no-follow");
    await waitingForApproval(id);
    const terminal = followInTerminal(id);

    await terminal.seen(/sign-off\s+RUNNING\s+waiting for approval: 0 of 1/);
    expect(terminal.text()).toMatch(/beta\s+SUCCEEDED\s+beta, 1\/1 hosts/);
    expect(terminal.text()).toContain(`decide, as an approver: sluice approve ${id}`);
    expect(terminal.text()).toContain(`: ${stack.endpoints.api}/approvals/<token>`);
    expect((await decide(id, "approve")).status).toBe(200);
    const code = await terminal.exited;

    const text = terminal.text();
    expect(text).toMatch(/production\/one-box\/bake\s+RUNNING\s+baking, \d+:\d\d left/);
    expect(text).toMatch(/production\/one-box\s+SUCCEEDED\s+prod-1, 2\/2 hosts/);
    expect(text).toMatch(new RegExp(`run ${id} SUCCEEDED after \\d+`));
    // Redrawn in place: the cursor goes back up over the block, hidden until the end.
    expect(terminal.output()).toMatch(REDRAW);
    expect(terminal.output()).toContain("\x1b[?25h");
    expect(code).toBe(0);
  });

  it("ends with the failed run's outcome and exit code 1", async () => {
    const { id } = await push("--no-follow");
    await waitingForApproval(id);
    const terminal = followInTerminal(id);

    await terminal.seen(/waiting for approval/);
    expect((await decide(id, "reject")).status).toBe(200);
    const code = await terminal.exited;

    expect(terminal.text()).toMatch(/sign-off\s+FAILED\s+rejected by .*: not today/);
    expect(terminal.text()).toMatch(new RegExp(`run ${id} FAILED after \\S+: `));
    expect(code).toBe(1);
  });
});

describe("sluice follow of a held wave", () => {
  it("says what holds the wave, as its step does, rather than that it deploys", async () => {
    // New Year's first minute only: closed now.
    const window = { cron: "0 0 1 1 *", timeZone: "UTC", durationMinutes: 1 };
    const wave = { name: "one-box", deploymentGroup: "prod-1", window };
    const definition = stringify({
      executionMode: "parallel",
      stages: [{ name: "production", production: { waves: [wave] } }],
    });
    expect((await api(stack, "PUT", "/apps/held", definition)).status).toBe(201);
    const example = path.join(PROJECT_ROOT, "examples/hello-service");
    const file = await packDirectory(example, path.join(workDir, "held-1.0.0.tar.gz"), "tar.gz");
    const pushed = await sluice("push", file, "--app", "held", "--version", "1.0.0", "--no-follow");
    const id = /^run (\S+) /m.exec(pushed.stdout)?.[1] as string;
    const out: string[] = [];
    const following = main(["follow", id, "--interval", "0.1", "--api", stack.endpoints.api], {
      stdout: (text) => out.push(text),
      stderr: (text) => out.push(text),
      env: {},
    });

    const held = await waitFor(
      async () => {
        const stage = (await getRun(id)).stages.find((s: Json) => s.name === "production/one-box");
        return stage?.hold ? stage : undefined;
      },
      { what: `run ${id}'s wave to be held`, timeoutMs: 20_000 },
    );
    try {
      await waitFor(async () => (out.join("").includes(held.message) ? true : undefined), {
        what: "follow to say what holds the wave",
      });
    } finally {
      await api(stack, "POST", `/runs/${id}/stop`, { reason: "seen held" });
    }

    expect(held.message).toMatch(/^held: outside its deployment window \(0 0 1 1 \* UTC, 1 min\)/);
    expect(out.join("")).toContain(`production/one-box  RUNNING    ${held.message}\n`);
    expect(await following).toBe(1);
  });
});

describe("Ctrl-C in sluice follow", () => {
  it("stops following, shows the cursor again and leaves the run as it was", async () => {
    const { id } = await push("--no-follow");
    await waitingForApproval(id);
    const terminal = followInTerminal(id);
    await terminal.seen(/waiting for approval/);

    terminal.type("\x03");
    const code = await terminal.exited;

    expect(terminal.text()).toContain(
      `stopped following run ${id}; it goes on: sluice follow ${id}`,
    );
    expect(terminal.output().endsWith("\x1b[?25h")).toBe(true);
    expect(code).toBe(130);
    expect((await getRun(id)).status).toBe("RUNNING");
    expect((await decide(id, "reject")).status).toBe(200);
  });
});

describe("the read commands", () => {
  let succeeded: string;

  beforeAll(async () => {
    const { id } = await push("--no-follow");
    await waitingForApproval(id);
    await decide(id, "approve");
    succeeded = id;
    // Without a terminal, follow prints a line each time a stage changes, and the outcome.
    const followed = await sluice("follow", id, "--interval", "0.1");
    expect(followed.code, followed.stderr).toBe(0);
    expect(followed.stdout).toMatch(new RegExp(`run ${id} SUCCEEDED`));
    expect(followed.stdout).not.toContain("\x1b[");
  });

  it("sluice apps lists the apps and their stages; --json prints the API's answer", async () => {
    const listed = await sluice("apps");
    const json = await sluice("apps", "--json");

    expect(listed.stdout).toMatch(/^APP\s+MODE\s+UPDATED\s+STAGES\n/);
    expect(listed.stdout).toMatch(/watch\s+parallel\s+\S+\s+beta → soak → sign-off → production/);
    expect(JSON.parse(json.stdout)).toEqual((await api(stack, "GET", "/apps")).body);
  });

  it("sluice runs lists runs newest first, filtered by app and status", async () => {
    const all = await sluice("runs");
    const ok = await sluice("runs", "--app", "watch", "--status", "SUCCEEDED");
    const one = await sluice("runs", "--app", "watch", "--limit", "1", "--json");

    expect(all.stdout).toMatch(/^RUN\s+APP\s+STATUS\s+CREATED\s+REVISION\n/);
    expect(all.stdout.trim().split("\n").length).toBeGreaterThanOrEqual(5);
    expect(ok.stdout).toContain(succeeded);
    expect(ok.stdout).not.toMatch(/FAILED/);
    const newest = (await api(stack, "GET", "/apps/watch/runs")).body.runs[0];
    expect(JSON.parse(one.stdout).runs).toEqual([newest]);
  });

  it("sluice runs ends a page with the command that lists the next one, only when there is one", async () => {
    const runs = (await api(stack, "GET", "/apps/watch/runs")).body.runs;
    const first = await sluice("runs", "--app", "watch", "--limit", "1");
    const more = /^more: sluice (.*)\n/m.exec(first.stdout)?.[1] ?? "";
    // Pasted as it is.
    const out: string[] = [];
    const pasted = await main(more.split(" "), {
      stdout: (text) => out.push(text),
      stderr: (text) => out.push(text),
      env: {},
    });
    const whole = await sluice("runs", "--app", "watch", "--limit", String(runs.length));
    const pages = await sluice("runs", "--limit", "150");

    expect(runs.length).toBeGreaterThan(1);
    expect(more.replace(/--cursor \S+$/, "--cursor <cursor>")).toBe(
      `--api ${stack.endpoints.api} runs --app watch --limit 1 --cursor <cursor>`,
    );
    expect(pasted, out.join("")).toBe(0);
    expect(out.join("")).toContain(`\n${runs[1].id}  watch  `);
    expect(out.join("")).not.toContain(runs[0].id);
    expect(whole.stdout).toContain(runs.at(-1).id);
    expect(whole.stdout).not.toContain("more:");
    // A limit above what a page of the API holds (100) is asked for a page at a time, not refused.
    expect(pages.code, pages.stderr).toBe(0);
    expect(pages.stdout).not.toContain("more:");
  });

  it("reads through the people's routes with the local stack's printed token", async () => {
    const token = stack.services.api.person.token;

    const shown = await sluice("run", succeeded, "--json", "--token", token);
    const refused = await sluice("run", succeeded, "--token", "not-the-token");
    const stop = await sluice("run", "stop", succeeded, "--token", token);

    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toEqual(await getRun(succeeded));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/401/);
    // An operator's command is not the people's routes': said so, not answered with their 404.
    expect(stop.code).toBe(1);
    expect(stop.stderr).toBe(
      "sluice: run stop is an operator command: it needs AWS credentials, not a token. A token (--token, SLUICE_TOKEN) only reads and decides an approval: sluice approve <run> or sluice reject <run> --reason <why>\n",
    );
  });

  it("sluice run shows the hosts each wave deployed to; --json the API's run view", async () => {
    const shown = await sluice("run", succeeded);
    const json = await sluice("run", succeeded, "--json");

    expect(shown.stdout).toMatch(/production\/one-box\s+SUCCEEDED .* 2\/2 hosts/);
    expect(JSON.parse(json.stdout)).toEqual(await getRun(succeeded));
  });

  const lines = (text: string) => text.trimEnd().split("\n");

  it("sluice events tells what happened to a run, in the words of its record, and to an app's runs", async () => {
    const run = await getRun(succeeded);
    const step = (name: string) => run.steps.find((s: Json) => s.step === name);
    const expected = [
      `run created (release of bundle ${run.revision.key} sha256:${run.revision.sha256.slice(0, 12)})`,
      "run started",
      "source started",
      `source SUCCEEDED: ${step("source").message}`,
      `build SKIPPED: ${step("build").message}`,
      "beta started",
      `beta SUCCEEDED: ${step("beta").message}`,
      "soak started",
      "soak SUCCEEDED",
      "sign-off started",
      expect.stringMatching(/^sign-off: approval requested, 1 needed, until \S+Z$/),
      `sign-off: approve via api (by ${step("sign-off").approval.by})`,
      `sign-off SUCCEEDED: ${step("sign-off").message}`,
      "production/one-box started",
      "production/one-box: wave 1 of 1 deploying to prod-1 (CodeDeployDefault.OneAtATime)",
      `production/one-box SUCCEEDED: ${step("production/one-box").message}`,
      "production/one-box/bake started",
      expect.stringMatching(/^production\/one-box: baking 1h00m, until \S+Z$/),
      "production/one-box/bake SUCCEEDED",
      "production/one-box: wave 1 of 1 SUCCEEDED",
      "run SUCCEEDED",
    ];
    const ofRun = await sluice("events", succeeded);
    const ofApp = await sluice("events", "--app", "watch");

    expect(ofRun.code, ofRun.stderr).toBe(0);
    // The run's audit trail, oldest first: when, then what (no run column for one run's events).
    const what = lines(ofRun.stdout).map(
      (line) => /^\d{4}-\d\d-\d\dT\S+Z {2}(.*)$/.exec(line)?.[1],
    );
    expect(what).toEqual(expected);
    // The app's: each line names its run.
    expect(ofApp.stdout).toMatch(new RegExp(`Z {2}${succeeded} {2}run SUCCEEDED\n`));
  });

  // Production saw two deployments in this file: the terminal's run and this block's.
  it("sluice metrics gives the five DORA metrics of the app; --json the API's answer", async () => {
    const shown = await sluice("metrics", "watch", "--since", "1d");
    const json = await sluice("metrics", "watch", "--json");

    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^app watch, .* production stage production\n/);
    expect(shown.stdout).toMatch(/deployment frequency\s+2\.00 a day, 14\.0 a week \(2 successful/);
    expect(shown.stdout).toMatch(/change lead time\s+median \d+\S* over 2 releases/);
    expect(shown.stdout).toMatch(/change fail rate\s+0% \(0 of 2/);
    expect(shown.stdout).toMatch(
      /failed deployment recovery time\s+n\/a \(no failed deployments\)/,
    );
    expect(shown.stdout).toMatch(/deployment rework rate\s+0%/);
    const metrics = JSON.parse(json.stdout);
    expect(metrics.deployments).toEqual({ total: 2, succeeded: 2, failed: 0 });
    expect(metrics.changeLeadTime.startedFrom).toEqual({ commit: 0, "run-created": 2 });
  });

  it("sluice follow of a run that does not exist fails at once with the API's reason", async () => {
    const started = Date.now();
    const { code, stderr } = await sluice("follow", "01J00000000000000000000000");

    expect(code).toBe(1);
    expect(stderr).toBe(
      "sluice: GET /runs/01J00000000000000000000000: 404 run 01J00000000000000000000000 does not exist\n",
    );
    expect(Date.now() - started).toBeLessThan(900);
  });

  it("names the route the API refused as it was asked for, with no bare ? when there is no query", async () => {
    const { code, stderr } = await sluice("metrics", "nope");

    expect(code).toBe(1);
    expect(stderr).toBe('sluice: GET /apps/nope/metrics: 404 app "nope" is not registered\n');
  });

  it("refuses a period that ends before it starts", async () => {
    const { code, stderr } = await sluice(
      "metrics",
      "watch",
      "--from",
      "2026-02-01",
      "--to",
      "2026-01-01",
    );

    expect(code).toBe(1);
    expect(stderr).toMatch(/400 from must be before to/);
  });
});
