import { type Command, Option } from "commander";
import { type Run, RunStatusSchema, type RunView } from "../domain/run";
import { DEFAULT_PAGE_LIMIT } from "../http/query";
import type { ApiClient, Json } from "./api-client";
import { CliError } from "./errors";
import { formatMetrics, formatRuns } from "./format";
import { invocation } from "./invocation";
import type { Io } from "./main";
import { ageMs, count, seconds } from "./option-values";
import type { GlobalOptions } from "./settings";
import { auditEntries, formatTimeline, timelineOf } from "./timeline";

/** What the read commands need of the program they are added to. */
export interface ReadContext {
  io: Io;
  api(command: Command): ApiClient;
  /** Prints the API's JSON as it is: `--json`. */
  print(value: unknown): void;
  followRun(client: ApiClient, id: string, intervalMs: number): Promise<void>;
}

const RUN_STATUSES = RunStatusSchema.options;
/** How many of an app's newest runs `events --app` reads, where there is no audit trail. */
const APP_EVENT_RUNS = 10;

/** `runs`, `follow`, `events` and `metrics`: what Sluice did and does, human or `--json`. */
export function addReadCommands(
  program: Command,
  { io, api, print, followRun }: ReadContext,
): void {
  program
    .command("runs")
    .description("list runs, newest first: every app's, or one app's")
    .option("--app <app>", "only this app's runs")
    .addOption(new Option("--status <status>", "only runs in this status").choices(RUN_STATUSES))
    .option("--limit <n>", "at most this many runs", count, 20)
    .option("--cursor <cursor>", "go on from where an earlier page ended")
    .option("--json", "print the API's JSON")
    .action(
      async (
        options: { app?: string; status?: string; limit: number; cursor?: string; json?: boolean },
        command: Command,
      ) => {
        const { json, ...filter } = options;
        const page = await api(command).runs(filter);
        if (json) print(page);
        else {
          const listed = [
            "runs",
            ...(filter.app ? ["--app", filter.app] : []),
            ...(filter.status ? ["--status", filter.status] : []),
          ];
          const more = page.next
            ? nextPageCommand(command, listed, { limit: filter.limit, cursor: page.next }, io.env)
            : undefined;
          io.stdout(formatRuns(page.runs as Run[], more));
        }
      },
    );

  program
    .command("follow")
    .description(
      "follow a run live: a line per stage and wave, host counts, bake countdowns, approvals; exits 0 when it succeeds, else 1",
    )
    .argument("<id>", "the run's id")
    .option("--interval <seconds>", "how often to ask for the run's progress", seconds, 1)
    .action(async (id: string, options: { interval: number }, command: Command) => {
      await followRun(api(command), id, options.interval * 1000);
    });

  program
    .command("events")
    .description(
      "what happened to a run (its audit trail, or its record of steps, votes and actions), or to an app's runs",
    )
    .argument("[run]", "the run's id")
    .option("--app <app>", "the app's events instead: its newest runs'")
    .option(
      "--limit <n>",
      `with --app: at most this many of its newest events (default ${DEFAULT_PAGE_LIMIT})`,
      count,
    )
    .option("--cursor <cursor>", "with --app: go on from where an earlier page ended")
    .option("--json", "print the API's JSON")
    .action(
      async (
        runId: string | undefined,
        options: { app?: string; limit?: number; cursor?: string; json?: boolean },
        command: Command,
      ) => {
        if ((runId === undefined) === (options.app === undefined)) {
          throw new CliError(
            "name a run (sluice events <run>) or an app (sluice events --app <app>)",
          );
        }
        if (runId !== undefined && (options.limit !== undefined || options.cursor !== undefined)) {
          throw new CliError("--limit and --cursor page an app's events; a run's come whole");
        }
        const client = api(command);
        const { limit, cursor } = options;
        const page = { ...(limit ? { limit } : {}), ...(cursor ? { cursor } : {}) };
        const audit: { entries: Json[]; next?: string } | undefined = runId
          ? await client.runAudit(runId)
          : await client.appAudit(options.app ?? "", page);
        if (audit) {
          if (options.json) print(audit);
          else {
            // The trail pages newest first (entries of one millisecond too, by their ids); a
            // person reads what happened in its order. A run's own lines need no run column.
            const entries = auditEntries(audit.entries).reverse();
            const listed = ["events", "--app", options.app ?? ""];
            const more = audit.next
              ? `more (older): ${nextPageCommand(command, listed, { limit, cursor: audit.next }, io.env)}\n`
              : "";
            io.stdout(
              formatTimeline(runId ? entries.map(({ run: _run, ...entry }) => entry) : entries) +
                more,
            );
          }
          return;
        }
        if (limit !== undefined || cursor !== undefined) {
          throw new CliError(
            "this API keeps no audit trail (no GET /apps/{app}/audit), which --limit and --cursor page",
          );
        }
        const runs: RunView[] = runId
          ? [await client.run(runId)]
          : await Promise.all(
              (await client.runs({ app: options.app ?? "", limit: APP_EVENT_RUNS })).runs.map(
                (run: Run) => client.run(run.id),
              ),
            );
        if (options.json) {
          print(runId ? runs[0] : { runs });
          return;
        }
        const entries = runs.flatMap((run) =>
          timelineOf(run).map((entry) => (runId ? entry : { ...entry, run: run.id })),
        );
        io.stdout(formatTimeline(entries.sort((a, b) => a.at.localeCompare(b.at))));
      },
    );

  program
    .command("metrics")
    .description(
      "an app's DORA delivery metrics over a period: deployment frequency, change lead time, change fail rate, failed deployment recovery time, deployment rework rate",
    )
    .argument("<app>", "the app")
    .option("--since <age>", "the period up to now, e.g. 30d, 2w, 12h (default 30d)")
    .option("--from <time>", "the period's start, an ISO 8601 date or time")
    .option("--to <time>", "the period's end (not included), an ISO 8601 date or time")
    .option("--json", "print the API's JSON")
    .action(
      async (
        app: string,
        options: { since?: string; from?: string; to?: string; json?: boolean },
        command: Command,
      ) => {
        if (options.since && (options.from || options.to)) {
          throw new CliError("give --since, or --from and --to, not both");
        }
        const period = options.since
          ? { from: new Date(Date.now() - ageMs(options.since)).toISOString() }
          : {
              ...(options.from ? { from: options.from } : {}),
              ...(options.to ? { to: options.to } : {}),
            };
        const metrics = await api(command).metrics(app, period);
        if (options.json) print(metrics);
        else io.stdout(formatMetrics(metrics));
      },
    );
}

/**
 * A list command again from `cursor`, ready to paste: the same list (a cursor is only good for
 * the list that handed it out) of the same API, the same page size.
 */
function nextPageCommand(
  command: Command,
  list: readonly string[],
  page: { limit?: number | undefined; cursor: string },
  env: NodeJS.ProcessEnv,
): string {
  const { api } = command.optsWithGlobals<GlobalOptions>();
  return [
    invocation(env),
    ...(api ? ["--api", api] : []),
    ...list,
    ...(page.limit ? ["--limit", String(page.limit)] : []),
    "--cursor",
    page.cursor,
  ].join(" ");
}
