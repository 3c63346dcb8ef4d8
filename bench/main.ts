import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { startLocalStack } from "../local/stack";

/**
 * `npm run bench`: numbers for the local stack on this machine. Intake latency is what a
 * client waits for `POST /apps/{app}/runs`; end-to-end is from that call to the run's
 * SUCCEEDED (source stage, build skipped); throughput is runs finished per second with many
 * in flight. Each figure is printed; nothing here passes or fails.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const COMMIT = "0123456789abcdef0123456789abcdef01234567";

const stateDir = await mkdtemp(path.join(tmpdir(), "sluice-bench-"));
const stack = await startLocalStack({ stateDir, logLevel: "error" });
const url = (route: string) => `${stack.endpoints.api}${route}`;

async function post(route: string, body: string, contentType = "application/json") {
  const res = await fetch(url(route), {
    method: "POST",
    body,
    headers: { "content-type": contentType },
  });
  return { status: res.status, body: (await res.json()) as { id: string } };
}

/** Resolves when the run's "Run Succeeded" event reaches the bus, as a subscriber would see it. */
const waiting = new Map<string, () => void>();
const ended = new Set<string>();
stack.eventBridge.subscribe((event) => {
  const { runId } = event.detail as { runId?: string };
  if (!runId) return;
  if (event["detail-type"] === "Run Failed") throw new Error(`run ${runId} failed`);
  if (event["detail-type"] !== "Run Succeeded") return;
  ended.add(runId);
  waiting.get(runId)?.();
});
function untilEnded(id: string): Promise<void> {
  if (ended.has(id)) return Promise.resolve();
  return new Promise((resolve) => waiting.set(id, resolve));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function report(name: string, samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const f = (n: number) => n.toFixed(1).padStart(7);
  console.log(
    `${name.padEnd(34)} n=${String(samples.length).padStart(4)}  p50 ${f(percentile(sorted, 50))} ms  p95 ${f(percentile(sorted, 95))} ms  max ${f(sorted.at(-1) ?? Number.NaN)} ms`,
  );
}

try {
  await fetch(url("/apps/bench"), { method: "PUT", body: "executionMode: parallel\n" });
  const body = JSON.stringify({ revision: { type: "git", commit: COMMIT } });
  const rssBefore = process.memoryUsage().rss;

  const intake: number[] = [];
  const endToEnd: number[] = [];
  for (let i = 0; i < Math.min(RUNS, 100); i++) {
    const t0 = performance.now();
    const { body: run } = await post("/apps/bench/runs", body);
    intake.push(performance.now() - t0);
    await untilEnded(run.id);
    endToEnd.push(performance.now() - t0);
  }
  report("intake POST /apps/{app}/runs", intake);
  report("end-to-end, one run at a time", endToEnd);

  const t0 = performance.now();
  const ids = await Promise.all(
    Array.from({ length: RUNS }, async () => (await post("/apps/bench/runs", body)).body.id),
  );
  await Promise.all(ids.map(untilEnded));
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `${"throughput, all in flight".padEnd(34)} n=${String(RUNS).padStart(4)}  ${(RUNS / seconds).toFixed(1)} runs/s (${seconds.toFixed(2)} s)`,
  );
  const rssMiB = (n: number) => (n / 1024 / 1024).toFixed(0);
  console.log(
    `${"resident memory".padEnd(34)} before ${rssMiB(rssBefore)} MiB, after ${rssMiB(process.memoryUsage().rss)} MiB`,
  );
} finally {
  await stack.stop();
  await rm(stateDir, { recursive: true, force: true });
}
