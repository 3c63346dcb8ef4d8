import { readFile } from "node:fs/promises";
import { Command, CommanderError, Option } from "commander";
import type { RunView } from "../domain/run";
import { ALARM_STATES, cloudWatchClient, listAlarms, setAlarm } from "./alarm";
import { ApiClient } from "./api-client";
import { CliError } from "./errors";
import { exitCodeOf, type FollowOutput, follow } from "./follow";
import { formatAppList, formatRun } from "./format";
import { invocation } from "./invocation";
import { seconds } from "./option-values";
import { push } from "./push";
import { addReadCommands } from "./read-commands";
import { startRelease } from "./releases";
import { bearerToken, requestSigner, signsAsLocalUser } from "./request-signer";
import { type GlobalOptions, LOCAL, resolveCloudWatchEndpoint, resolveSettings } from "./settings";
import { type Input, readSecret } from "./terminal";

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  /** What the CLI reads secrets and confirmations from; without it, nothing can be asked. */
  input?: Input;
  /** The folder commands run in (the process's, unless given): `push` reads its last commit. */
  cwd?: string;
  /** What stdout is: `follow` redraws in place on a terminal, and prints a line a change otherwise. */
  terminal?: { isTTY?: boolean; columns?: number };
}

/** Where the API's routes for people (a JWT, or the local printed token) are. */
const PEOPLE_ROUTES = "/api";

const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  input: { stdin: process.stdin, stdout: process.stdout },
  terminal: process.stdout,
};

/** What a decision came to, as `sluice approve` and `sluice reject` say it. */
function describeDecision(
  id: string,
  answer: { outcome: string; by: string; approvals: number; required: number },
): string {
  if (answer.outcome === "recorded") {
    return `run ${id}: approval by ${answer.by} recorded (${answer.approvals} of ${answer.required} needed)\n`;
  }
  return `run ${id}: ${answer.outcome} by ${answer.by}\n`;
}

/** Runs one `sluice` command line (the arguments after the program name); returns the exit code. */
export async function main(args: readonly string[], io: Io = processIo): Promise<number> {
  const exit = { code: 0 };
  const program = buildProgram(io, exit);
  try {
    await program.parseAsync(args, { from: "user" });
    return exit.code;
  } catch (err) {
    // Commander has printed its own message (or the help) already.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 1;
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(`sluice: ${message.replaceAll("\n", " ")}\n`);
    return 1;
  }
}

function buildProgram(io: Io, exit: { code: number }): Command {
  const program = new Command("sluice")
    .description("Release bundles and runs of Sluice, the deployment orchestrator")
    .option("--api <url>", `Sluice HTTP API (env SLUICE_API; default ${LOCAL.api})`)
    .option(
      "--token <jwt>",
      "a bearer token to call the API with instead of signing with AWS credentials (env SLUICE_TOKEN)",
    )
    .option(
      "--s3-endpoint <url>",
      `S3 endpoint (env AWS_ENDPOINT_URL_S3; default ${LOCAL.s3Endpoint} for the local bucket, AWS otherwise)`,
    )
    .option(
      "--bucket <name>",
      `releases bucket (env SLUICE_RELEASES_BUCKET; default ${LOCAL.bucket})`,
    )
    .option(
      "--cloudwatch-endpoint <url>",
      `CloudWatch endpoint for alarm (env AWS_ENDPOINT_URL_CLOUDWATCH; default ${LOCAL.cloudwatchEndpoint} for a local API, AWS otherwise)`,
    )
    .exitOverride()
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      // One line, as every other failure: "sluice: <what is wrong>".
      outputError: (text, write) => write(`sluice: ${text.replace(/^error: /, "")}`),
    });
  const settings = (command: Command) =>
    resolveSettings(command.optsWithGlobals<GlobalOptions>(), io.env);
  const api = (command: Command) => {
    const { api, token } = settings(command);
    return token
      ? new ApiClient(api, bearerToken(token), PEOPLE_ROUTES)
      : new ApiClient(api, requestSigner(api, io.env), "", signsAsLocalUser(new URL(api), io.env));
  };
  /**
   * The API for an operator command: IAM's routes only. A person's token reaches the people's
   * routes, which only read and decide approvals, so it is refused before anything is sent.
   */
  const operatorApi = (command: Command) => {
    if (settings(command).token) {
      const sluice = invocation(io.env);
      throw new CliError(
        `${commandPath(command)} is an operator command: it needs AWS credentials, not a token. A token (--token, SLUICE_TOKEN) only reads and decides an approval: ${sluice} approve <run> or ${sluice} reject <run> --reason <why>`,
      );
    }
    return api(command);
  };
  const print = (value: unknown) => io.stdout(`${JSON.stringify(value, null, 2)}\n`);
  const output: FollowOutput = {
    write: io.stdout,
    isTTY: io.terminal?.isTTY === true,
    ...(io.terminal?.columns ? { columns: io.terminal.columns } : {}),
    color: io.terminal?.isTTY === true && !io.env.NO_COLOR && io.env.TERM !== "dumb",
  };
  /** Follows a run until it ends (or waits for approval, for push); Ctrl-C stops following. */
  const followRun = async (
    client: ApiClient,
    id: string,
    intervalMs: number,
    untilApproval = false,
  ) => {
    const interrupt = new AbortController();
    const onInterrupt = () => interrupt.abort();
    process.on("SIGINT", onInterrupt);
    try {
      const end = await follow(client, id, output, {
        intervalMs,
        untilApproval,
        signal: interrupt.signal,
        command: invocation(io.env),
      });
      exit.code = exitCodeOf(end);
    } finally {
      process.off("SIGINT", onInterrupt);
    }
  };

  program
    .command("push")
    .description("upload a release bundle as <app>/<version> and wait for the run it starts")
    .argument("<file>", "the bundle: a .zip or .tar.gz with appspec.yml at its root")
    .requiredOption("--app <app>", "the app to release")
    .requiredOption("--version <version>", "the version this bundle is, e.g. 1.4.0")
    .option("--timeout <seconds>", "how long to wait for Sluice's answer", seconds, 60)
    .option("--message <text>", "the commit message of what the bundle holds")
    .option("--author <author>", 'who wrote it, as "Name <email>"')
    .option("--no-follow", "print the run's id and return, instead of following the run")
    .option("--interval <seconds>", "how often to ask for the run's progress", seconds, 1)
    .addHelpText(
      "after",
      "\nWithout --message and --author, the message and author of the last commit of the git work tree it runs in go with the bundle.\nIt follows the run it started, as sluice follow does, and stops when the run ends (exit code 0 when it succeeded, else 1) or waits for an approval (0).",
    )
    .action(
      async (
        file: string,
        options: {
          app: string;
          version: string;
          timeout: number;
          message?: string;
          author?: string;
          follow: boolean;
          interval: number;
        },
        command: Command,
      ) => {
        const client = operatorApi(command);
        const run = await push(
          file,
          {
            app: options.app,
            version: options.version,
            timeoutMs: options.timeout * 1000,
            ...(options.message === undefined ? {} : { message: options.message }),
            ...(options.author === undefined ? {} : { author: options.author }),
            cwd: io.cwd ?? process.cwd(),
          },
          settings(command),
          client,
          io.env,
          io.stdout,
        );
        if (options.follow) await followRun(client, run.id, options.interval * 1000, true);
      },
    );

  addReadCommands(program, { io, api, print, followRun });

  const run = program
    .command("run")
    .description("show a run's status and stage history, or start one (run start)")
    .argument("[id]", "the run's id")
    .option("--json", "print the API's JSON")
    .action(async (id: string | undefined, options: { json?: boolean }, command: Command) => {
      if (!id) throw new CliError("name a run (sluice run <id>) or start one (sluice run start)");
      const client = api(command);
      const run = await client.run(id);
      if (options.json) print(run);
      else {
        const where = {
          api: client.base,
          command: invocation(io.env),
          localUser: client.localUser,
        };
        io.stdout(formatRun(run, where));
      }
    });
  run
    .command("start")
    .description("start a run of a git commit, or of a released version again")
    .requiredOption("--app <app>", "the app")
    .option("--commit <sha>", "the full commit sha to deploy")
    .option("--ref <ref>", "the ref the commit is on, e.g. refs/heads/main")
    .option("--version <version>", "a released version to deploy again, e.g. to roll back")
    .option("--reason <text>", "why, shown on the run")
    .action(
      async (
        options: { app: string; commit?: string; ref?: string; version?: string; reason?: string },
        command: Command,
      ) => {
        const client = operatorApi(command);
        const revision = await revisionToStart(client, options);
        const created: RunView = await client.post(`/apps/${options.app}/runs`, {
          revision,
          ...(options.reason ? { reason: options.reason } : {}),
        });
        io.stdout(`run ${created.id} ${created.status}\n`);
      },
    );

  const operate = (
    name: string,
    description: string,
    path: string,
    body: (options: { reason?: string; comment?: string }) => Record<string, unknown>,
    connect = operatorApi,
  ) =>
    run
      .command(name)
      .description(description)
      .argument("<id>", "the run's id")
      .option("--reason <text>", "why, recorded on the run")
      .option("--comment <text>", "a word for the record (approve, reject)")
      .action(
        async (id: string, options: { reason?: string; comment?: string }, command: Command) => {
          const answer = await connect(command).post(
            `/runs/${encodeURIComponent(id)}/${path}`,
            body(options),
          );
          io.stdout(answer.status ? `run ${id} ${answer.status}\n` : describeDecision(id, answer));
        },
      );
  const reason = (o: { reason?: string }) => (o.reason ? { reason: o.reason } : {});
  const comment = (o: { comment?: string; reason?: string }) =>
    (o.comment ?? o.reason) ? { comment: o.comment ?? o.reason } : {};
  operate("stop", "stop a run: it leaves its queue, or its execution is stopped", "stop", reason);
  operate(
    "retry",
    "go on with a failed or stopped run from the step it ended in (a redrive)",
    "retry",
    reason,
  );
  operate(
    "approve",
    "approve the approval a run waits in",
    "approval",
    (o) => ({ decision: "approve", ...comment(o) }),
    api,
  );
  operate(
    "reject",
    "reject the approval a run waits in: the run fails",
    "approval",
    (o) => ({ decision: "reject", ...comment(o) }),
    api,
  );

  const confirmed = (c: Command) =>
    c
      .option("--reason <text>", "why, recorded on the run")
      .option("-y, --yes", "start it without asking for confirmation")
      .option("--dry-run", "list what it would do, and start nothing");
  type Confirmed = { reason?: string; yes?: boolean; dryRun?: boolean };
  confirmed(
    program
      .command("release")
      .description(
        "start a run of an already-uploaded release through the whole pipeline; lists it and asks first",
      )
      .argument("<app>", "the app")
      .argument("<version>", "the released version, e.g. 1.4.0"),
  ).action(async (app: string, version: string, options: Confirmed, command: Command) => {
    await startRelease(
      operatorApi(command),
      { app, version, kind: "release", ...options },
      io.input,
      io.stdout,
    );
  });
  confirmed(
    program
      .command("rollback")
      .description(
        "roll back to an earlier release through the production waves only; lists it and asks first",
      )
      .argument("<app>", "the app")
      .requiredOption("--to <version>", "the released version to go back to")
      .option("--bake", "bake each wave as the definition says (skipped by default)"),
  ).action(
    async (app: string, options: Confirmed & { to: string; bake?: boolean }, command: Command) => {
      const { to, ...rest } = options;
      await startRelease(
        operatorApi(command),
        { app, version: to, kind: "rollback", ...rest },
        io.input,
        io.stdout,
      );
    },
  );
  const decideAs =
    (decision: "approve" | "reject") =>
    async (id: string, options: { comment?: string; reason?: string }, command: Command) => {
      const text = options.comment ?? options.reason;
      const answer = await api(command).post(`/runs/${encodeURIComponent(id)}/approval`, {
        decision,
        ...(text ? { comment: text } : {}),
      });
      io.stdout(describeDecision(id, answer));
    };
  program
    .command("approve")
    .description("approve the approval a run waits in, as the caller's IAM principal")
    .argument("<run>", "the run's id")
    .option("--comment <text>", "a word for the record")
    .action(decideAs("approve"));
  program
    .command("reject")
    .description("reject the approval a run waits in: the run ends rejected")
    .argument("<run>", "the run's id")
    .requiredOption("--reason <text>", "why, recorded on the run")
    .action(decideAs("reject"));
  program
    .command("override")
    .description(
      "let a run's held wave go (its window, freeze or alarm), or cut its bake short (--bake)",
    )
    .argument("<run>", "the run's id")
    .requiredOption("--reason <text>", "why: recorded with who and when, and announced")
    .option("--bake", "cut the bake the run is in short")
    .action(async (id: string, options: { reason: string; bake?: boolean }, command: Command) => {
      const { override } = await operatorApi(command).post(
        `/runs/${encodeURIComponent(id)}/override`,
        {
          reason: options.reason,
          ...(options.bake ? { bake: true } : {}),
        },
      );
      const lifted = override.lifted.map((b: { message: string }) => b.message).join("; ");
      io.stdout(
        override.what === "bake"
          ? `run ${id}: bake cut short by ${override.by}\n`
          : `run ${id}: let go by ${override.by} (${lifted})\n`,
      );
    });
  program
    .command("freeze")
    .description("hold every production wave of an app until a time, or until unfrozen")
    .argument("<app>", "the app")
    .requiredOption(
      "--until <when>",
      "an ISO 8601 time with its offset (2026-12-27T08:00:00Z) or a duration: 90m, 8h, 3d, 2w",
    )
    .requiredOption("--reason <text>", "why, recorded and announced")
    .action(async (app: string, options: { until: string; reason: string }, command: Command) => {
      const freeze = await operatorApi(command).post(
        `/apps/${encodeURIComponent(app)}/freeze`,
        options,
      );
      io.stdout(`app ${app} frozen until ${freeze.until} by ${freeze.by}\n`);
    });
  program
    .command("unfreeze")
    .description("lift an app's freeze: the waves it held go on at once")
    .argument("<app>", "the app")
    .requiredOption("--reason <text>", "why, recorded and announced")
    .action(async (app: string, options: { reason: string }, command: Command) => {
      const lifted = await operatorApi(command).post(
        `/apps/${encodeURIComponent(app)}/unfreeze`,
        options,
      );
      io.stdout(
        `app ${app} unfrozen by ${lifted.liftedBy} (it was frozen until ${lifted.until})\n`,
      );
    });

  const apps = program
    .command("apps")
    .description("list the registered apps (apps put, apps webhook-secret: manage one)")
    .option("--json", "print the API's JSON")
    .action(async (options: { json?: boolean }, command: Command) => {
      const answer = await api(command).apps();
      if (options.json) print(answer);
      else io.stdout(formatAppList(answer.apps));
    });
  apps
    .command("put")
    .description("register an app, or replace its pipeline definition")
    .argument("<app>", "the app's name")
    .argument("<definition-file>", "its pipeline definition, YAML or JSON")
    .action(async (app: string, file: string, _options: unknown, command: Command) => {
      const client = operatorApi(command);
      const definition = await readFile(file, "utf8").catch((err: Error) => {
        throw new CliError(`cannot read ${file}: ${err.message}`, { cause: err });
      });
      const answer = await client.put(`/apps/${app}`, definition, "application/yaml");
      io.stdout(`app ${app} ${answer.status === 201 ? "registered" : "updated"}\n`);
    });
  apps
    .command("webhook-secret")
    .description(
      "set the app's webhook secret: a generated one, printed this once, or your own from stdin",
    )
    .argument("<app>", "the app's name")
    .option(
      "--secret-stdin",
      "read the secret to use from stdin (at least 20 characters), e.g. the one your git host made",
    )
    .action(async (app: string, options: { secretStdin?: boolean }, command: Command) => {
      const client = operatorApi(command);
      const secret = options.secretStdin ? await readSecret(io.input) : undefined;
      const issued = await client.post(
        `/apps/${encodeURIComponent(app)}/webhook-secret`,
        secret === undefined ? {} : { secret },
      );
      io.stdout(
        issued.secret
          ? `${issued.secret}\n`
          : `webhook secret of app ${issued.app} set (your own), by ${issued.rotatedBy} at ${issued.rotatedAt}\n`,
      );
    });

  const cloudWatch = (command: Command) =>
    cloudWatchClient(
      resolveCloudWatchEndpoint(command.optsWithGlobals<GlobalOptions>(), io.env),
      io.env,
    );
  const alarm = program
    .command("alarm")
    .description("set or list CloudWatch alarms (those a production wave watches)");
  alarm
    .command("set")
    .description("set an alarm's state, as aws cloudwatch set-alarm-state does")
    .argument("<name>", "the alarm's name")
    .addOption(
      new Option("--state <state>", "the state to set").choices(ALARM_STATES).makeOptionMandatory(),
    )
    .option("--reason <text>", "why, kept as the alarm's state reason", "set with sluice alarm set")
    .action(
      async (
        name: string,
        options: { state: (typeof ALARM_STATES)[number]; reason: string },
        command: Command,
      ) => {
        io.stdout(await setAlarm(cloudWatch(command), name, options.state, options.reason));
      },
    );
  alarm
    .command("list")
    .description("list alarms with their states, in name order")
    .option("--prefix <prefix>", "only alarms whose names start with it")
    .action(async (options: { prefix?: string }, command: Command) => {
      io.stdout(await listAlarms(cloudWatch(command), options.prefix));
    });

  return program;
}

/** What `run start` deploys: the commit, or the bundle the version was released with. */
async function revisionToStart(
  api: ApiClient,
  options: { app: string; commit?: string; ref?: string; version?: string },
): Promise<Record<string, string>> {
  if ((options.commit === undefined) === (options.version === undefined)) {
    throw new CliError("name what to deploy: --commit <sha> or --version <version>, not both");
  }
  if (options.commit !== undefined) {
    return { type: "git", commit: options.commit, ...(options.ref ? { ref: options.ref } : {}) };
  }
  const version = options.version ?? "";
  const history = await api.find(
    `/apps/${encodeURIComponent(options.app)}/bundles/${encodeURIComponent(version)}`,
  );
  if (!history?.release) {
    throw new CliError(`version ${version} of app ${options.app} was never released`);
  }
  return { type: "bundle", key: history.release.key };
}

/** A subcommand as the person typed it, without the program's name: `run stop`, `freeze`. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}
