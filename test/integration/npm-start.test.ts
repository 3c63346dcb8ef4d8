import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { SESv2Client, SendEmailCommand } from "@aws-sdk/client-sesv2";
import { afterEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { LOCAL_SERVICES } from "../../local/local-services";
import { PROJECT_ROOT } from "../../local/stack";
import { makeGitRepo } from "../support/git-repo";
import { BuildGate } from "../support/held-builds";
import { waitFor } from "../support/local-stack";
import { freePorts, holdPort, isFree, release } from "../support/ports";

/** How long the stack may take to stop, once signalled, with every port free again. */
const STOP_DEADLINE_MS = 10_000;

interface NpmStart {
  child: ChildProcess;
  pid: number;
  ports: number[];
  stateDir: string;
  stdout(): string;
  stderr(): string;
  /** The exit code once it has exited. */
  exited(): number | null | undefined;
}

const started: NpmStart[] = [];
const stateDirs: string[] = [];

afterEach(async () => {
  // Whatever a failed test left running: npm leads a process group of its own.
  for (const npm of started.splice(0)) {
    try {
      process.kill(-npm.pid, "SIGKILL");
    } catch {
      // the group has already ended
    }
  }
  for (const dir of stateDirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** `npm start`, as a user or a service manager runs it, on its own ports and state folder. */
async function npmStart(ports: number[]): Promise<NpmStart> {
  const stateDir = await mkdtemp(path.join(tmpdir(), "sluice-npm-start-"));
  stateDirs.push(stateDir);
  const env: NodeJS.ProcessEnv = { ...process.env, SLUICE_STATE_DIR: stateDir, LOG_LEVEL: "warn" };
  LOCAL_SERVICES.forEach((service, i) => {
    env[service.portVariable] = String(ports[i]);
  });
  const child = spawn("npm", ["start"], { cwd: PROJECT_ROOT, env, stdio: "pipe", detached: true });
  let stdout = "";
  let stderr = "";
  let code: number | null | undefined;
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.on("exit", (exitCode) => {
    code = exitCode;
  });
  if (child.pid === undefined) throw new Error("npm start did not start");
  const npm = {
    child,
    pid: child.pid,
    stateDir,
    ports,
    stdout: () => stdout,
    stderr: () => stderr,
    exited: () => code,
  };
  started.push(npm);
  return npm;
}

async function serving(npm: NpmStart): Promise<void> {
  await waitFor(
    async () => {
      if (npm.exited() !== undefined) throw new Error(`npm start exited: ${npm.stderr()}`);
      return npm.stdout().includes("Sluice is running locally") ? true : undefined;
    },
    { what: "npm start's banner", timeoutMs: 30_000, intervalMs: 50 },
  );
}

interface ProcessEntry {
  pid: number;
  ppid: number;
  args: string;
}

async function processes(): Promise<ProcessEntry[]> {
  const { stdout } = await promisify(execFile)("ps", [
    "-A",
    "-o",
    "pid=",
    "-o",
    "ppid=",
    "-o",
    "args=",
  ]);
  return stdout
    .split("\n")
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((m) => m !== null)
    .map(([, pid, ppid, args]) => ({ pid: Number(pid), ppid: Number(ppid), args: args ?? "" }));
}

/** `pid` and every process under it. */
async function processTree(pid: number): Promise<ProcessEntry[]> {
  const all = await processes();
  const tree = all.filter((p) => p.pid === pid);
  for (let i = 0; i < tree.length; i++) {
    tree.push(...all.filter((p) => p.ppid === tree[i]?.pid));
  }
  return tree;
}

/** Waits until none of `tree` is alive and every port is free again. */
async function allGone(tree: readonly ProcessEntry[], ports: readonly number[]): Promise<void> {
  await waitFor(
    async () => {
      const alive = new Set((await processes()).map((p) => p.pid));
      if (tree.some((p) => alive.has(p.pid))) return undefined;
      return (await Promise.all(ports.map(isFree))).every(Boolean) ? true : undefined;
    },
    { what: "the stack's processes to end and its ports to be free", timeoutMs: STOP_DEADLINE_MS },
  );
}

describe("npm start as a service", () => {
  it("prints each service's address and each mail's links, and stops the whole stack, a build in progress with it, when npm gets SIGTERM", async () => {
    // Prepare: a run held in its build, its shell and sleep children under the stack's node
    const repo = await makeGitRepo({ "README.md": "stopped mid-build\n" });
    const gate = await BuildGate.create();
    const npm = await npmStart(await freePorts(LOCAL_SERVICES.length));
    try {
      await serving(npm);
      const api = `http://127.0.0.1:${npm.ports[LOCAL_SERVICES.findIndex((s) => s.name === "api")]}`;
      const app = stringify({ repository: repo.dir, executionMode: "parallel", build: gate.build });
      expect((await fetch(`${api}/apps/held`, { method: "PUT", body: app })).status).toBe(201);
      await fetch(`${api}/apps/held/runs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ revision: { type: "git", commit: repo.commit } }),
      });
      await gate.waitForArrivals(1);
      const tree = await processTree(npm.pid);
      const sesPort = npm.ports[LOCAL_SERVICES.findIndex((service) => service.name === "ses")];
      await new SESv2Client({
        endpoint: `http://127.0.0.1:${sesPort}`,
        region: "us-east-1",
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
      }).send(
        new SendEmailCommand({
          FromEmailAddress: "sluice@localhost",
          Destination: { ToAddresses: ["ada@example.com"] },
          Content: {
            Simple: {
              Subject: { Data: "Approval needed" },
              Body: { Text: { Data: "Decide at http://127.0.0.1:3000/approvals/abc" } },
            },
          },
        }),
      );
      // The terminal is the local inbox: each mail's recipient and links, as it is sent.
      await waitFor(
        async () =>
          npm.stdout().includes("mail to ada@example.com: http://127.0.0.1:3000/approvals/abc\n") ||
          undefined,
        { what: "the mail's line on npm start's output" },
      );

      // The dashboard's address, with the token that lets a person onto the people's routes.
      const token = new RegExp(`^ +${api}/ui\\?token=([\\w-]{43})$`, "m").exec(npm.stdout())?.[1];
      const asPerson = { headers: { authorization: `Bearer ${token}` } };
      expect((await fetch(`${api}/api/apps/held`, asPerson)).status).toBe(200);

      // Act: what a service manager does
      process.kill(npm.pid, "SIGTERM");
      await allGone(tree, npm.ports);

      // Assess
      LOCAL_SERVICES.forEach((service, i) => {
        expect(npm.stdout()).toMatch(
          new RegExp(`^ +${service.title} +http://127\\.0\\.0\\.1:${npm.ports[i]} `, "m"),
        );
      });
      expect(tree.some((p) => p.args.includes("local/main.ts"))).toBe(true);
      expect(tree.some((p) => p.args.includes("SLUICE_TEST_GATE"))).toBe(true);
      expect(npm.stdout()).toContain("Stopping Sluice");
      expect(npm.exited()).toBe(0);
    } finally {
      await gate.cleanup();
      await rm(repo.dir, { recursive: true, force: true });
    }
  });

  it("stops the whole stack when the node process under npm gets SIGINT", async () => {
    const npm = await npmStart(await freePorts(LOCAL_SERVICES.length));
    await serving(npm);
    const tree = await processTree(npm.pid);
    const node = tree.find((p) => p.args.includes("local/main.ts"));

    process.kill(node?.pid ?? 0, "SIGINT");
    await allGone(tree, npm.ports);

    expect(node).toBeDefined();
    expect(npm.exited()).toBe(0);
  });

  it("still stops when its state folder was deleted under it, and says what it could not save", async () => {
    const npm = await npmStart(await freePorts(LOCAL_SERVICES.length));
    await serving(npm);
    const tree = await processTree(npm.pid);
    const node = tree.find((p) => p.args.includes("local/main.ts"));

    await rm(npm.stateDir, { recursive: true, force: true });
    process.kill(node?.pid ?? 0, "SIGINT");
    await allGone(tree, npm.ports);

    expect(npm.exited()).toBe(1);
    expect(npm.stderr()).toMatch(/^Sluice did not stop cleanly:\n( {2}.*ENOENT.*\n)+$/);
  });

  it("names a port in use and its variable in one line, and exits 1", async () => {
    // Prepare: something else holds the S3 port, which comes after other services have started
    const ports = await freePorts(LOCAL_SERVICES.length);
    const s3 = LOCAL_SERVICES.findIndex((service) => service.name === "s3");
    const holder = await holdPort(ports[s3] ?? 0);
    try {
      // Act
      const npm = await npmStart(ports);
      await waitFor(async () => (npm.exited() === undefined ? undefined : true), {
        what: "npm start to give up",
        timeoutMs: 30_000,
      });

      // Assess
      const lines = npm.stderr().split("\n").filter(Boolean);
      expect(lines).toEqual([
        `port ${ports[s3]} (SLUICE_S3_PORT) is in use: stop what holds it or set SLUICE_S3_PORT`,
      ]);
      expect(npm.exited()).toBe(1);
      const others = ports.filter((_, i) => i !== s3);
      expect(await Promise.all(others.map(isFree))).toEqual(others.map(() => true));
    } finally {
      await release(holder);
    }
  });
});
