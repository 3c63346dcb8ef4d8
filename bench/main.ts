import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { DynamoDBClient, TransactWriteItemsCommand } from "@aws-sdk/client-dynamodb";
import { lambdaWorkersFromEnv } from "../local/lambda-runtime";
import { type LocalStack, startLocalStack } from "../local/stack";
import { deployFigures, writeDeployFleet } from "./deploy-run";
import { measureHandlers, printHandlers } from "./handlers";
import { RunEnds } from "./run-ends";
import { medianBy, percentile } from "./stats";
import { drive, githubPushes, type LoadResult, startBareVerifier } from "./webhook-load";

/**
 * `npm run bench`: numbers for this machine. First each handler's bundle and cold init, then,
 * on the local stack: intake latency is what a client waits for `POST /apps/{app}/runs`;
 * end-to-end is from that call to the run's SUCCEEDED (source stage, build skipped); throughput
 * is runs finished per second with many in flight; webhook intake is signed GitHub pushes from
 * 1, 16 and 64 concurrent senders, beside a bare server that only checks their signatures; the
 * deploy figures (deploy-run.ts) are one run through beta, gamma, an approval and three waves
 * over a local fleet, beside a plain script doing the same. Each figure is printed; nothing here
 * passes or fails.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 256);
const SENDERS = (process.env.BENCH_SENDERS ?? "1,16,64").split(",").map(Number);
/**
 * `BENCH_ONLY=deploy` runs the deploy figures alone, on a stack that ran nothing before;
 * `BENCH_ONLY=webhooks` the webhook intake figures alone, e.g. to profile them.
 */
const ONLY = process.env.BENCH_ONLY;
if (ONLY !== undefined && ONLY !== "deploy" && ONLY !== "webhooks")
  throw new Error(`BENCH_ONLY=${ONLY}: only "deploy" and "webhooks" are known`);
/**
 * Rounds of each level, each with its own deliveries; a level's figures are its median round by
 * p99, since on a shared machine one round's p99 can be twice another's.
 */
const ROUNDS = Math.max(1, Number(process.env.BENCH_WEBHOOK_ROUNDS ?? 3));
const AIM_SENDERS = 16;
const AIM_P99_MS = 100;
/** Deliveries that first load the handler and open connections; they are not counted. */
const WARM_UP = 8;
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const NEEDS_TRANSACTIONS = "needs the local DynamoDB with transactions";
const label = (name: string) => name.padEnd(34);

function report(name: string, samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const f = (n: number) => n.toFixed(1).padStart(7);
  console.log(
    `${label(name)} n=${String(samples.length).padStart(4)}  p50 ${f(percentile(sorted, 50))} ms  p95 ${f(percentile(sorted, 95))} ms  max ${f(sorted.at(-1) ?? Number.NaN)} ms`,
  );
}

/** Why the local DynamoDB cannot write a transaction (every run's change is one), if it cannot. */
async function transactionsRefused(stack: LocalStack): Promise<string | undefined> {
  const client = new DynamoDBClient({ endpoint: stack.endpoints.dynamodb });
  try {
    await client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Put: {
              TableName: stack.resources.table,
              Item: { pk: { S: "BENCH#probe" }, sk: { S: "PROBE" } },
            },
          },
        ],
      }),
    );
    return undefined;
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  } finally {
    client.destroy();
  }
}

async function runFigures(stack: LocalStack, ends: RunEnds) {
  const post = async (route: string, body: string) => {
    const res = await fetch(`${stack.endpoints.api}${route}`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
    return (await res.json()) as { id: string };
  };
  await fetch(`${stack.endpoints.api}/apps/bench`, {
    method: "PUT",
    body: "executionMode: parallel\n",
  });
  const body = JSON.stringify({ revision: { type: "git", commit: COMMIT } });
  const rssBefore = process.memoryUsage().rss;

  const intake: number[] = [];
  const endToEnd: number[] = [];
  for (let i = 0; i < Math.min(RUNS, 100); i++) {
    const t0 = performance.now();
    const run = await post("/apps/bench/runs", body);
    intake.push(performance.now() - t0);
    await ends.untilEnded(run.id);
    endToEnd.push(performance.now() - t0);
  }
  report("intake POST /apps/{app}/runs", intake);
  report("end-to-end, one run at a time", endToEnd);

  const t0 = performance.now();
  const ids = await Promise.all(
    Array.from({ length: RUNS }, async () => (await post("/apps/bench/runs", body)).id),
  );
  await Promise.all(ids.map((id) => ends.untilEnded(id)));
  const seconds = (performance.now() - t0) / 1000;
  const failed = ids.filter((id) => ends.failed(id)).length;
  console.log(
    `${label("throughput, all in flight")} n=${String(RUNS).padStart(4)}  ${(RUNS / seconds).toFixed(1)} runs/s (${seconds.toFixed(2)} s)${failed ? `, ${failed} failed` : ""}`,
  );
  const rssMiB = (n: number) => (n / 1024 / 1024).toFixed(0);
  console.log(
    `${label("resident memory")} before ${rssMiB(rssBefore)} MiB, after ${rssMiB(process.memoryUsage().rss)} MiB`,
  );
}

function figure(result: LoadResult): string {
  const others = [...result.statuses].filter(([status]) => status !== 202);
  const note = others.length ? ` (${others.map(([s, n]) => `${n}× ${s}`).join(", ")})` : "";
  return `${result.perSecond.toFixed(1).padStart(7)}/s p50 ${result.p50Ms.toFixed(1).padStart(6)} p99 ${result.p99Ms.toFixed(1).padStart(6)} ms ${result.cpuMsPerDelivery.toFixed(2).padStart(5)} ms CPU${note}`;
}

function startedRuns(result: LoadResult): number {
  return result.bodies.filter((body) => (JSON.parse(body) as { started?: boolean }).started).length;
}

/** Webhook intake at each number of senders; Sluice's only when `stack` can take runs. */
async function webhookFigures(stack: LocalStack | undefined, ends: RunEnds | undefined) {
  const app = "bench-hooks";
  let secret = "bench-secret";
  if (stack) {
    await fetch(`${stack.endpoints.api}/apps/${app}`, {
      method: "PUT",
      body: "executionMode: parallel\n",
    });
    const res = await fetch(`${stack.endpoints.api}/apps/${app}/webhook-secret`, {
      method: "POST",
    });
    ({ secret } = (await res.json()) as { secret: string });
  }
  const bare = await startBareVerifier(secret);
  console.log(
    `webhook intake, ${DELIVERIES} signed GitHub pushes a round, ${ROUNDS} rounds a level (its median round by p99): Sluice (answered) | a bare Node server checking their HMAC | Sluice/bare | Sluice, until every run it started has ended (CPU: the whole stack's a run, intake to end)`,
  );
  console.log(
    "(CPU: this process's CPU time a delivery while they were sent, the senders' included; Sluice's includes the pipelines of runs already started)",
  );
  const sluiceUrl = stack && `${stack.endpoints.api}/webhooks/github?app=${app}`;
  let accepted = 0;
  try {
    const warmUp = githubPushes(secret, WARM_UP);
    if (sluiceUrl && ends) {
      accepted += startedRuns(await drive(sluiceUrl, warmUp, 1));
      await ends.untilAppEnded(app, accepted);
    }
    await drive(bare.url, warmUp, 1);
    for (const senders of SENDERS) {
      const sluiceRounds: { result: LoadResult; drained: string }[] = [];
      const bareRounds: LoadResult[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const deliveries = githubPushes(secret, DELIVERIES);
        if (sluiceUrl && ends) {
          const t0 = performance.now();
          const cpu0 = process.cpuUsage();
          const result = await drive(sluiceUrl, deliveries, senders);
          accepted += startedRuns(result);
          // The runs it started end before the bare server's turn and the next round.
          if (!(await ends.untilAppEnded(app, accepted))) console.log("  (some runs never ended)");
          const seconds = (performance.now() - t0) / 1000;
          const cpu = process.cpuUsage(cpu0);
          const cpuPerRun = (cpu.user + cpu.system) / 1000 / deliveries.length;
          const drained = ` | ${(deliveries.length / seconds).toFixed(1).padStart(6)}/s ${cpuPerRun.toFixed(1).padStart(5)} ms CPU`;
          sluiceRounds.push({ result, drained });
        }
        bareRounds.push(await drive(bare.url, deliveries, senders));
      }
      const sluice = medianBy(sluiceRounds, (r) => r.result.p99Ms);
      const baseline = medianBy(bareRounds, (r) => r.p99Ms) as LoadResult;
      const ratio = sluice
        ? `${((100 * sluice.result.perSecond) / baseline.perSecond).toFixed(1)} %`
        : "-";
      console.log(
        `${label(`  ${senders} sender${senders === 1 ? "" : "s"}`)} ${sluice ? figure(sluice.result) : NEEDS_TRANSACTIONS} | ${figure(baseline)} | ${ratio}${sluice?.drained ?? ""}`,
      );
      if (sluiceRounds.length > 1) {
        const p99s = sluiceRounds.map((r) => r.result.p99Ms.toFixed(0)).join(", ");
        const aim =
          senders === AIM_SENDERS
            ? `; aim: under ${AIM_P99_MS} ms, ${sluice && sluice.result.p99Ms < AIM_P99_MS ? "met" : "not met"}`
            : "";
        console.log(
          `${label("")}   Sluice's p99 in its ${sluiceRounds.length} rounds: ${p99s} ms${aim}`,
        );
      }
    }
    if (stack)
      console.log(
        `  (Sluice's pipeline functions ran on ${stack.lambdas.threads || "no"} worker threads)`,
      );
  } finally {
    await bare.close();
  }
}

if (!ONLY) {
  console.log(
    "handlers, bundled as serverless-esbuild bundles them (the SDK left to the runtime);",
  );
  console.log(
    "init: importing it in a fresh node process, median of 5; SDK alone: only its imports",
  );
  printHandlers(await measureHandlers());
  console.log();
}

const stateDir = await mkdtemp(path.join(tmpdir(), "sluice-bench-"));
let stack: LocalStack | undefined;
try {
  let unavailable: string | undefined;
  try {
    const fleetFile = await writeDeployFleet(stateDir);
    stack = await startLocalStack({
      stateDir,
      logLevel: "error",
      // The pipeline's functions on worker threads, as `npm start` runs them (SLUICE_LAMBDA_WORKERS=0:
      // all in this process).
      lambdaWorkers: lambdaWorkersFromEnv(process.env),
      serviceOptions: {
        codedeploy: { hostPortBase: 0, fleetFile },
        // DynamoDB on a thread of its own, as `npm start` runs it.
        dynamodb: { thread: true },
      },
    });
    const refused = await transactionsRefused(stack);
    if (refused) unavailable = `the local DynamoDB refused a transaction (${refused})`;
  } catch (err) {
    unavailable = `the local stack did not start (${(err as Error).message})`;
  }
  const ends = stack && !unavailable ? new RunEnds(stack) : undefined;
  if (ONLY === "webhooks") {
    if (unavailable) console.log(unavailable);
  } else if (stack && ends) {
    if (!ONLY) {
      await runFigures(stack, ends);
      console.log();
    }
    await deployFigures(stack).catch((err: Error) => console.log(`deploy figures: ${err.message}`));
  } else {
    console.log(`${unavailable}:`);
    for (const name of [
      "intake POST /apps/{app}/runs",
      "end-to-end, one run at a time",
      "throughput, all in flight",
    ])
      console.log(`${label(name)} ${NEEDS_TRANSACTIONS}`);
  }
  if (ONLY !== "deploy") {
    console.log();
    await webhookFigures(ends ? stack : undefined, ends);
  }
} finally {
  await stack?.stop();
  await rm(stateDir, { recursive: true, force: true });
}
