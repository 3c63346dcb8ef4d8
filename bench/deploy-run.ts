import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { BatchGetDeploymentsCommand, CodeDeployClient } from "@aws-sdk/client-codedeploy";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetExecutionHistoryCommand, SFNClient } from "@aws-sdk/client-sfn";
import { LOCAL_CREDENTIALS, type LocalStack } from "../local/stack";
import { actionMinutes, dollars, lambdaCost, PRICES, stepFunctionsCost } from "./aws-cost";
import { type Breakdown, breakdown, printBreakdown } from "./deploy-breakdown";
import { shellDeployer } from "./deploy-script";
import { type Invocation, LambdaCount } from "./lambda-count";
import {
  APPROVAL_STAGE,
  atOnce,
  fleetFile,
  NOOP_APP,
  pipelineDefinition,
  TARGETS,
  writeNoopBundle,
} from "./noop-release";
import { medianBy } from "./stats";

/**
 * The deploy figures of `npm run bench`: one run of a no-op revision through beta, gamma, an
 * approval the bench grants as soon as it can be decided, and three production waves with no
 * bake, beside a bash script running the same hooks on as many host folders in the same order.
 * A warm-up run of each goes first and is not counted, so both measured runs find modules
 * loaded and hosts with a revision to stop. Then BENCH_DEPLOY_RUNS (3) runs of each, taking
 * turns; the figures are the median run's.
 */
const MEASURED_RUNS = Math.max(1, Number(process.env.BENCH_DEPLOY_RUNS ?? 3));
const RUN_DEADLINE_MS = 120_000;
const ENDS = new Set(["Run Succeeded", "Run Failed", "Run Rolled Back", "Run Stopped"]);
const AIM_RATIO = 1.2;
const AIM_COST = 0.002;
const label = (name: string) => `  ${name}`.padEnd(38);

/** Writes the fleet the bench deploys to as `local-fleet.yml` in `dir`; answers its path. */
export async function writeDeployFleet(dir: string): Promise<string> {
  const file = path.join(dir, "local-fleet.yml");
  await writeFile(file, fleetFile());
  return file;
}

interface Measured {
  runId: string;
  status: string;
  ms: number;
  /** Wall-clock (Date.now) times of the upload and of the run's end, to set the stand-in's by. */
  uploadedAt: number;
  endedAt: number;
  /** CPU time this process (the whole local stack) spent from the upload to the run's end. */
  cpuMs: number;
  invocations: Invocation[];
  approvalCalls: number;
}

export async function deployFigures(stack: LocalStack): Promise<void> {
  const lambdas = LambdaCount.install();
  const workDir = await mkdtemp(path.join(tmpdir(), "sluice-bench-deploy-"));
  try {
    const put = await fetch(`${stack.endpoints.api}/apps/${NOOP_APP}`, {
      method: "PUT",
      body: pipelineDefinition(),
    });
    if (!put.ok) throw new Error(`registering ${NOOP_APP}: ${put.status} ${await put.text()}`);
    const deploy = await shellDeployer(workDir);
    const runs: { sluice: Measured; scriptMs: number }[] = [];
    for (let i = 0; i <= MEASURED_RUNS; i++) {
      const version = `1.0.${i}`;
      const bundle = path.join(workDir, `${version}.tar.gz`);
      await writeNoopBundle(bundle, version);
      const sluice = await release(stack, lambdas, version, bundle);
      if (sluice.status !== "Run Succeeded") {
        console.log(`${label("deploy run")} ${sluice.runId} ended with ${sluice.status}`);
        return;
      }
      const scriptMs = await deploy(bundle, version);
      if (i > 0) runs.push({ sluice, scriptMs });
    }
    // MEASURED_RUNS is at least 1, so there is a median.
    type Run = (typeof runs)[number];
    const sluice = (medianBy(runs, (r) => r.sluice.ms) as Run).sluice;
    const scriptMs = (medianBy(runs, (r) => r.scriptMs) as Run).scriptMs;
    await print(stack, sluice, scriptMs, runs);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * Uploads the bundle (which starts the run) and follows the run on the bus until it ends,
 * approving it once its approval can be decided: the approval's task has kept its token.
 */
async function release(
  stack: LocalStack,
  lambdas: LambdaCount,
  version: string,
  bundle: string,
): Promise<Measured> {
  await lambdas.settled();
  lambdas.take();
  let runId: string | undefined;
  let requested = false;
  let tokenKept = false;
  let approving: Promise<number> | undefined;
  let settle: (end: Error | string) => void = () => {};
  const approveWhenReady = () => {
    if (!runId || !requested || !tokenKept || approving) return;
    approving = approve(stack, runId);
    approving.catch((err: Error) => settle(err));
  };
  const stopListening = lambdas.onEnded(({ name }) => {
    if (name.endsWith("awaitApproval")) tokenKept = true;
    approveWhenReady();
  });
  let unsubscribe = () => {};
  const ended = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => settle(new Error(`the run of ${version} did not end in ${RUN_DEADLINE_MS} ms`)),
      RUN_DEADLINE_MS,
    );
    settle = (end) => {
      clearTimeout(timer);
      if (end instanceof Error) reject(end);
      else resolve(end);
    };
    unsubscribe = stack.eventBridge.subscribe((event) => {
      const detail = event.detail as { runId?: string; app?: string; reason?: string };
      const type = event["detail-type"];
      if (detail.app !== NOOP_APP) return;
      if (type === "Bundle Rejected") settle(new Error(`bundle refused: ${detail.reason}`));
      if (!detail.runId) return;
      runId ??= detail.runId;
      if (detail.runId !== runId) return;
      if (type === "Approval Requested") requested = true;
      approveWhenReady();
      if (ENDS.has(type)) settle(type);
    });
  });
  // Awaited once the upload is done; a failure before then must not go unhandled meanwhile.
  ended.catch(() => undefined);
  const s3 = new S3Client({
    endpoint: stack.endpoints.s3,
    region: "us-east-1",
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
  });
  try {
    const body = await readFile(bundle);
    const uploadedAt = Date.now();
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    await s3.send(
      new PutObjectCommand({
        Bucket: stack.resources.releasesBucket,
        Key: `${NOOP_APP}/${version}.tar.gz`,
        Body: body,
      }),
    );
    const status = await ended;
    const ms = performance.now() - t0;
    const endedAt = Date.now();
    const { user, system } = process.cpuUsage(cpu);
    const approvalCalls = (await approving) ?? 0;
    await lambdas.settled();
    return {
      runId: runId as string,
      status,
      ms,
      uploadedAt,
      endedAt,
      cpuMs: (user + system) / 1000,
      invocations: lambdas.take(),
      approvalCalls,
    };
  } finally {
    // Clears the deadline when the upload itself failed.
    settle("abandoned");
    unsubscribe();
    stopListening();
    s3.destroy();
  }
}

/** POST /runs/{id}/approval; answers how many calls it took (a "not ready" answer is retried). */
async function approve(stack: LocalStack, runId: string): Promise<number> {
  for (let calls = 1; calls <= 100; calls++) {
    const res = await fetch(`${stack.endpoints.api}/runs/${runId}/approval`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ decision: "approve", comment: "bench" }),
    });
    const text = await res.text();
    if (res.ok) return calls;
    if (res.status !== 409 || !/not ready/.test(text))
      throw new Error(`approving ${runId}: ${res.status} ${text}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`the approval of ${runId} was never ready`);
}

/** Every StateEntered event of the run's execution, by state name. */
async function statesEntered(stack: LocalStack, runId: string): Promise<Map<string, number>> {
  const sfn = new SFNClient({
    endpoint: stack.endpoints.stepFunctions,
    region: "us-east-1",
    credentials: LOCAL_CREDENTIALS,
  });
  const executionArn = `${stack.resources.pipelineArn.replace(":stateMachine:", ":execution:")}:${runId}`;
  const entered = new Map<string, number>();
  try {
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(
        new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }),
      );
      for (const event of page.events ?? []) {
        const name = event.stateEnteredEventDetails?.name;
        if (event.type?.endsWith("StateEntered") && name)
          entered.set(name, (entered.get(name) ?? 0) + 1);
      }
      nextToken = page.nextToken;
    } while (nextToken);
  } finally {
    sfn.destroy();
  }
  return entered;
}

interface RunRecord {
  stages: { name: string; startedAt?: string; endedAt?: string }[];
  steps: { deploymentId?: string }[];
}

/** How long each of the run's stages took, by name, from the run's record. */
function stageDurations(run: RunRecord): Map<string, number> {
  return new Map(
    run.stages.flatMap((s) =>
      s.startedAt && s.endedAt ? [[s.name, Date.parse(s.endedAt) - Date.parse(s.startedAt)]] : [],
    ),
  );
}

/** The time the run's CodeDeploy deployments took, each from its creation to its end. */
async function deploymentsMs(
  stack: LocalStack,
  run: RunRecord,
): Promise<{ count: number; ms: number }> {
  const ids = run.steps.flatMap((s) => (s.deploymentId ? [s.deploymentId] : []));
  const codeDeploy = new CodeDeployClient({
    endpoint: stack.endpoints.codedeploy,
    region: "us-east-1",
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    const { deploymentsInfo = [] } = await codeDeploy.send(
      new BatchGetDeploymentsCommand({ deploymentIds: ids }),
    );
    const ms = deploymentsInfo.reduce(
      (sum, d) =>
        sum + ((d.completeTime?.getTime() ?? Number.NaN) - (d.createTime?.getTime() ?? 0)),
      0,
    );
    return { count: deploymentsInfo.length, ms };
  } finally {
    codeDeploy.destroy();
  }
}

const counted = (counts: Map<string, number>) =>
  [...counts].map(([name, n]) => `${name} ${n}`).join(", ");

async function runRecord(stack: LocalStack, runId: string): Promise<RunRecord> {
  return (await (await fetch(`${stack.endpoints.api}/runs/${runId}`)).json()) as RunRecord;
}

async function timesOf(stack: LocalStack, run: Measured): Promise<Breakdown> {
  const record = await runRecord(stack, run.runId);
  const ids = record.steps.flatMap((s) => (s.deploymentId ? [s.deploymentId] : []));
  return breakdown(stack.services.codedeploy, ids, run.uploadedAt, run.endedAt);
}

async function print(
  stack: LocalStack,
  run: Measured,
  scriptMs: number,
  runs: { sluice: Measured; scriptMs: number }[],
): Promise<void> {
  const entered = await statesEntered(stack, run.runId);
  const transitions = [...entered.values()].reduce((a, b) => a + b, 0);
  const record = await runRecord(stack, run.runId);
  const durations = stageDurations(record);
  const inDeployments = await deploymentsMs(stack, record);
  const stages = TARGETS.map((t) => t.stage);
  // CodePipeline's actions for the same shape, in order: the approval comes after gamma.
  const actions = ["source", ...stages.slice(0, 2), APPROVAL_STAGE, ...stages.slice(2)];
  const billed = actions.filter((a) => a !== APPROVAL_STAGE);
  const actionMs = (names: string[]) => names.map((n) => durations.get(n) ?? Number.NaN);
  const minutes = actionMinutes(actionMs(billed));
  const byFunction = new Map<string, number>();
  for (const { name } of run.invocations) {
    const short = name.replace(/^.*-/, "");
    byFunction.set(short, (byFunction.get(short) ?? 0) + 1);
  }
  const lambdaMs = run.invocations.reduce((sum, i) => sum + i.ms, 0);
  const sfnCost = stepFunctionsCost(transitions);
  const fnCost = lambdaCost(run.invocations.map((i) => i.ms));
  const ratio = run.ms / scriptMs;
  const met = (ok: boolean) => (ok ? "met" : "not met");
  const ms = (n: number) => `${n.toFixed(0)} ms`;

  console.log(
    `deploy: a no-op revision through beta, gamma, an approval (approved through the API as soon as it can be), three waves over 10 hosts (1, 4, 5; no bake); one warm-up run of each first`,
  );
  console.log(`${label("Sluice run, S3 upload to its end")} ${ms(run.ms)}`);
  console.log(
    `${label("  of which in CodeDeploy")} ${ms(inDeployments.ms)} (its ${inDeployments.count} deployments, each created to completed), ${ms(run.ms - inDeployments.ms)} around them`,
  );
  console.log(
    `${label("bash script, same hooks and hosts")} ${ms(scriptMs)} (12 host folders, each target in turn, as many hosts at once as its config allows)`,
  );
  const each = runs
    .map((r) => `${ms(r.sluice.ms)}/${ms(r.scriptMs)} (CPU ${ms(r.sluice.cpuMs)})`)
    .join(", ");
  console.log(
    `${label("runs, Sluice/script")} ${each}  (median of ${runs.length} each; CPU: the stack's process during the run; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")})`,
  );
  console.log(
    `${label("ratio")} ${ratio.toFixed(1)}×  (aim: at most ${AIM_RATIO}×, ${met(ratio <= AIM_RATIO)})`,
  );
  console.log(
    `${label("state transitions per run")} ${transitions}  (StateEntered events in GetExecutionHistory: ${counted(entered)})`,
  );
  console.log(
    `${label("overhead per state transition")} ${((run.ms - scriptMs) / transitions).toFixed(1)} ms  ((run − script) / transitions)`,
  );
  console.log(
    `${label("Lambda invocations per run")} ${run.invocations.length}, ${ms(lambdaMs)} in all, wall time in this process  (${counted(byFunction)}${run.approvalCalls > 1 ? `; ${run.approvalCalls} approval calls` : ""})`,
  );
  const cost = sfnCost + fnCost;
  console.log(
    `${label("AWS cost per run, list prices")} ${dollars(cost)} = Step Functions ${dollars(sfnCost)} + Lambda ${dollars(fnCost)} (arm64, 512 MB)  (aim: under ${dollars(AIM_COST)}, ${met(cost < AIM_COST)})`,
  );
  printBreakdown(await timesOf(stack, run), label, {
    transitions,
    scriptMs,
    hostSlots: TARGETS.reduce((sum, t) => sum + Math.ceil(t.hosts / atOnce(t)), 0),
  });
  const measured = actions.map((a) => `${a} ${ms(durations.get(a) ?? Number.NaN)}`).join(", ");
  console.log(
    `${label("CodePipeline V2, same shape")} ${dollars(minutes * PRICES.actionMinute)}: ${actions.length} actions, ${billed.length} billed (not the manual approval), each rounded up to a whole minute = ${minutes} action-minutes; durations measured here: ${measured}`,
  );
}
