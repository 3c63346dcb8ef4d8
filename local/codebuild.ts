import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import {
  createReadStream,
  createWriteStream,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { mkdir, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import picomatch from "picomatch";
import { parse as parseYaml } from "yaml";
import * as z from "../domain/zod";

const PHASES = ["install", "pre_build", "build", "post_build"] as const;

const BuildspecSchema = z.object({
  version: z.union([z.number(), z.string()]),
  env: z.optional(z.object({ variables: z._default(z.record(z.string(), z.string()), {}) })),
  phases: z.partialRecord(
    z.enum(PHASES),
    z.object({ commands: z._default(z.array(z.string()), []) }),
  ),
  /** The build's output: files (globs) under base-directory, relative to CODEBUILD_SRC_DIR. */
  artifacts: z.optional(
    z.object({
      files: z.array(z.string()).check(z.minLength(1)),
      "base-directory": z.optional(z.string()),
      "discard-paths": z.optional(z.union([z.boolean(), z.enum(["yes", "no"])])),
    }),
  ),
});

/**
 * The artifacts override of StartBuild, as far as Sluice uses it: S3 output, its files put
 * as they are (packaging NONE) in the folder `<Path>/<Name>/` (namespace NONE).
 */
const ArtifactsOverrideSchema = z.discriminatedUnion("Type", [
  z.object({ Type: z.literal("NO_ARTIFACTS") }),
  z.object({
    Type: z.literal("S3"),
    Location: z.string().check(z.minLength(3)),
    Path: z._default(z.string(), ""),
    Name: z.string().check(z.minLength(1)),
    NamespaceType: z._default(z.literal("NONE"), "NONE"),
    Packaging: z._default(z.literal("NONE"), "NONE"),
    EncryptionDisabled: z.optional(z.boolean()),
  }),
]);

const StartBuildSchema = z.object({
  ProjectName: z.string(),
  BuildspecOverride: z.string(),
  EnvironmentVariablesOverride: z._default(
    z.array(z.object({ Name: z.string(), Value: z.string(), Type: z.optional(z.string()) })),
    [],
  ),
  TimeoutInMinutesOverride: z.optional(z.number().check(z.int(), z.positive())),
  ArtifactsOverride: z.optional(ArtifactsOverrideSchema),
});

interface Phase {
  PhaseType: string;
  PhaseStatus: "SUCCEEDED" | "FAILED" | "TIMED_OUT";
  DurationInSeconds: number;
  Contexts?: { StatusCode: string; Message: string }[];
}

/** A CodeBuild build as `startBuild.sync` hands it back to the state machine. */
export interface Build {
  Id: string;
  Arn: string;
  ProjectName: string;
  BuildStatus: "SUCCEEDED" | "FAILED" | "TIMED_OUT";
  StartTime: number;
  EndTime: number;
  Phases: Phase[];
  Logs: { DeepLink: string; GroupName: string; StreamName: string };
  /** Where the build's output went, for a build with S3 artifacts. */
  Artifacts?: { Location: string };
}

/** Thrown as Step Functions does for a failed `.sync` build: the Build is the cause. */
export class BuildFailedError extends Error {
  constructor(readonly build: Build) {
    super(JSON.stringify({ Build: build }));
    this.name = "States.TaskFailed";
  }
}

/** Where a running build notes its process group, so a later process can end it. */
const PROCESS_GROUP_FILE = "build.pgid";

/**
 * CodeBuild for the pipeline's `codebuild:startBuild.sync` tasks: the buildspec's phases run in
 * one bash session (as in buildspec 0.2, a `cd` carries over) in a scratch folder of their own,
 * the output is kept in a log file, and a failing command fails its phase and the build.
 * Each build is its own process group: stopping the task (an aborted signal) kills the whole
 * group, and a group left behind by a killed stack is killed when the stand-in starts again.
 */
export class LocalCodeBuild {
  constructor(
    private readonly workDir: string,
    private readonly projects: ReadonlySet<string>,
    private readonly region: string,
    private readonly accountId: string,
    /** The client a build's artifacts are uploaded with (built when first needed). */
    private readonly s3?: () => S3Client,
  ) {
    killOrphanedBuilds(workDir);
  }

  async startBuildSync(input: unknown, signal?: AbortSignal): Promise<{ Build: Build }> {
    signal?.throwIfAborted();
    const request = StartBuildSchema.parse(input);
    if (!this.projects.has(request.ProjectName)) {
      throw Object.assign(new Error(`Project cannot be found: ${request.ProjectName}`), {
        name: "CodeBuild.ResourceNotFoundException",
      });
    }
    const buildspec = BuildspecSchema.parse(parseYaml(request.BuildspecOverride));
    const uuid = randomUUID();
    const id = `${request.ProjectName}:${uuid}`;
    const dir = path.join(this.workDir, uuid);
    const logFile = path.join(dir, "build.log");
    await mkdir(path.join(dir, "src"), { recursive: true });
    const startTime = Date.now();
    const outcome = await this.runPhases(
      buildspec,
      {
        ...buildspec.env?.variables,
        ...Object.fromEntries(request.EnvironmentVariablesOverride.map((v) => [v.Name, v.Value])),
        CODEBUILD_BUILD_ID: id,
        CODEBUILD_SRC_DIR: path.join(dir, "src"),
      },
      path.join(dir, "src"),
      logFile,
      (request.TimeoutInMinutesOverride ?? 60) * 60_000,
      signal,
    );
    signal?.throwIfAborted();
    const output = request.ArtifactsOverride;
    let artifacts: Build["Artifacts"];
    if (outcome.status === "SUCCEEDED" && output?.Type === "S3" && buildspec.artifacts) {
      const uploaded = await this.uploadArtifacts(buildspec.artifacts, output, dir, logFile);
      outcome.phases.push(uploaded.phase);
      if (uploaded.phase.PhaseStatus !== "SUCCEEDED") outcome.status = "FAILED";
      artifacts = { Location: `arn:aws:s3:::${output.Location}/${uploaded.prefix}` };
    }
    const build: Build = {
      Id: id,
      Arn: `arn:aws:codebuild:${this.region}:${this.accountId}:build/${id}`,
      ProjectName: request.ProjectName,
      BuildStatus: outcome.status,
      StartTime: startTime / 1000,
      EndTime: Date.now() / 1000,
      Phases: outcome.phases,
      Logs: { DeepLink: `file://${logFile}`, GroupName: "/aws/codebuild/local", StreamName: uuid },
      ...(artifacts ? { Artifacts: artifacts } : {}),
    };
    if (build.BuildStatus !== "SUCCEEDED") throw new BuildFailedError(build);
    return { Build: build };
  }

  /**
   * CodeBuild's UPLOAD_ARTIFACTS phase: the files under base-directory that the buildspec's
   * globs match go to `<Path>/<Name>/`, by their path from base-directory (or their name alone
   * with discard-paths). None matching fails the phase, as in CodeBuild.
   */
  private async uploadArtifacts(
    spec: NonNullable<z.infer<typeof BuildspecSchema>["artifacts"]>,
    output: Extract<z.infer<typeof ArtifactsOverrideSchema>, { Type: "S3" }>,
    dir: string,
    logFile: string,
  ): Promise<{ phase: Phase; prefix: string }> {
    const started = Date.now();
    const base = path.resolve(dir, "src", spec["base-directory"] ?? ".");
    const prefix = [output.Path, output.Name].filter(Boolean).join("/");
    const matches = picomatch(spec.files, { dot: true });
    const discard = spec["discard-paths"] === true || spec["discard-paths"] === "yes";
    const files = (await listFiles(base)).filter((file) => matches(file));
    const phase = (status: Phase["PhaseStatus"], message?: string): Phase => ({
      PhaseType: "UPLOAD_ARTIFACTS",
      PhaseStatus: status,
      DurationInSeconds: Math.round((Date.now() - started) / 1000),
      ...(message ? { Contexts: [{ StatusCode: "CLIENT_ERROR", Message: message }] } : {}),
    });
    if (files.length === 0) {
      return { phase: phase("FAILED", "no matching artifact paths found"), prefix };
    }
    if (!this.s3) return { phase: phase("FAILED", "this stand-in has no S3 to upload to"), prefix };
    const client = this.s3();
    for (const file of files) {
      const key = `${prefix}/${discard ? path.posix.basename(file) : file}`;
      const local = path.join(base, file);
      await client.send(
        new PutObjectCommand({
          Bucket: output.Location,
          Key: key,
          Body: createReadStream(local),
          ContentLength: (await stat(local)).size,
        }),
      );
      writeFileSync(logFile, `[Container] Uploaded ${file} to s3://${output.Location}/${key}\n`, {
        flag: "a",
      });
    }
    return { phase: phase("SUCCEEDED"), prefix };
  }

  private runPhases(
    buildspec: z.infer<typeof BuildspecSchema>,
    env: Record<string, string>,
    cwd: string,
    logFile: string,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<{ status: Build["BuildStatus"]; phases: Phase[] }> {
    const marker = `__sluice_phase_${randomUUID().slice(0, 8)}__`;
    const script = PHASES.filter((p) => buildspec.phases[p]?.commands.length)
      .map((phase) =>
        [
          `echo "${marker} ${phase}" >&3`,
          `echo '[Container] Entering phase ${phase.toUpperCase()}'`,
          ...(buildspec.phases[phase]?.commands ?? []).map(
            (c) => `printf '%s\\n' ${shellQuote(`[Container] Running command ${c}`)}\n${c}`,
          ),
        ].join("\n"),
      )
      .join("\n");
    return new Promise((resolve, reject) => {
      const log = createWriteStream(logFile);
      const child = spawn("bash", ["-eo", "pipefail", "-c", script], {
        cwd,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? cwd, ...env },
        stdio: ["ignore", "pipe", "pipe", "pipe"],
        detached: true,
      });
      const started: { phase: string; at: number }[] = [];
      child.stdio[3]?.on("data", (chunk: Buffer) => {
        for (const line of chunk.toString().split("\n")) {
          if (line.startsWith(marker))
            started.push({ phase: line.slice(marker.length + 1), at: Date.now() });
        }
      });
      child.stdout?.pipe(log, { end: false });
      child.stderr?.pipe(log, { end: false });
      const groupFile = path.join(path.dirname(logFile), PROCESS_GROUP_FILE);
      const id = env.CODEBUILD_BUILD_ID ?? "";
      if (child.pid) writeFileSync(groupFile, JSON.stringify({ pgid: child.pid, buildId: id }));
      const killGroup = () => {
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      };
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup();
      }, timeoutMs);
      signal?.addEventListener("abort", killGroup, { once: true });
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", killGroup);
        // The group may outlive its leader (a command left in the background): end it too.
        killGroup();
        rmSync(groupFile, { force: true });
        const ended = Date.now();
        const phases: Phase[] = started.map(({ phase, at }, i) => {
          const last = i === started.length - 1;
          const failed = last && code !== 0;
          return {
            PhaseType: phase.toUpperCase(),
            PhaseStatus: failed ? (timedOut ? "TIMED_OUT" : "FAILED") : "SUCCEEDED",
            DurationInSeconds: Math.round(((started[i + 1]?.at ?? ended) - at) / 1000),
            ...(failed
              ? {
                  Contexts: [
                    {
                      StatusCode: timedOut ? "BUILD_TIMED_OUT" : "COMMAND_EXECUTION_ERROR",
                      Message: timedOut
                        ? `Build timed out after ${timeoutMs / 60_000} minutes`
                        : `Error while executing command. Reason: exit status ${code}`,
                    },
                  ],
                }
              : {}),
          };
        });
        log.end(`[Container] Phases complete: build ${code === 0 ? "SUCCEEDED" : "FAILED"}\n`, () =>
          resolve({ status: code === 0 ? "SUCCEEDED" : timedOut ? "TIMED_OUT" : "FAILED", phases }),
        );
      });
    });
  }
}

/**
 * Kills the process groups of builds a previous process started and never saw end (it was
 * SIGKILLed). Where /proc shows processes, only a group still running that build (its
 * CODEBUILD_BUILD_ID in the environment) is killed, so a reused process id is left alone.
 */
function killOrphanedBuilds(workDir: string): void {
  let builds: string[];
  try {
    builds = readdirSync(workDir);
  } catch {
    return;
  }
  for (const build of builds) {
    const file = path.join(workDir, build, PROCESS_GROUP_FILE);
    let noted: { pgid: number; buildId: string };
    try {
      noted = JSON.parse(readFileSync(file, "utf8")) as typeof noted;
    } catch {
      continue;
    }
    for (const pid of processesOfBuild(noted)) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
    }
    rmSync(file, { force: true });
  }
}

function processesOfBuild(noted: { pgid: number; buildId: string }): number[] {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return [noted.pgid];
  }
  const marker = `CODEBUILD_BUILD_ID=${noted.buildId}\0`;
  return pids.map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, "latin1").includes(marker);
    } catch {
      return false;
    }
  });
}

/** The regular files under `dir`, by their path from it with "/" between segments. */
async function listFiles(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) =>
        path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"),
      );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}
