import { describe, expect, it } from "vitest";
import { formatMetrics, formatRun } from "../../cli/format";
import { invocation } from "../../cli/invocation";
import { main } from "../../cli/main";
import { outcomeLine, progressLines } from "../../cli/progress";
import { deliveryMetrics } from "../../domain/metrics";
import type { PlanStep } from "../../domain/plan";
import type { RunView, StepRecord } from "../../domain/run";
import { clock, duration } from "../../domain/time-text";
import { serve, sluiceAt } from "../support/stub-api";

const ID = "01J00000000000000000000000";
const T0 = Date.parse("2026-01-05T10:00:00.000Z");
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

function runView(steps: Partial<StepRecord>[], more: Partial<RunView> = {}): RunView {
  const plan: RunView["plan"] = {
    steps: [
      { id: "source", kind: "source" },
      {
        id: "sign-off",
        kind: "approval",
        timeoutSeconds: 3600,
        approvers: [{ email: "a@x.io" }, { email: "b@x.io" }],
        requiredApprovals: 2,
        forbidSelfApproval: false,
        slack: false,
        email: true,
      },
      {
        id: "production/one-box",
        kind: "deploy",
        application: "shop",
        deploymentGroup: "prod-1",
        deploymentConfig: "CodeDeployDefault.OneAtATime",
        alarms: [],
        timeoutSeconds: 600,
      },
      {
        id: "production/one-box/bake",
        kind: "bake",
        deploymentGroup: "prod-1",
        alarms: ["shop-5xx"],
        seconds: 300,
      },
      {
        id: "production/rest",
        kind: "deploy",
        application: "shop",
        deploymentGroup: "prod-2",
        deploymentConfig: "CodeDeployDefault.HalfAtATime",
        alarms: [],
        timeoutSeconds: 600,
      },
    ],
  } as RunView["plan"];
  const records = steps.map(
    (s, index) =>
      ({
        step: plan.steps[index]?.id,
        kind: plan.steps[index]?.kind,
        index,
        attempt: 1,
        status: "SUCCEEDED",
        startedAt: at(0),
        ...s,
      }) as StepRecord,
  );
  return {
    id: ID,
    app: "shop",
    status: "RUNNING",
    revision: { type: "bundle", key: "shop/1.2.0.zip" },
    trigger: { type: "upload" },
    createdAt: at(0),
    updatedAt: at(0),
    startedAt: at(0),
    plan,
    cursor: records.length - 1,
    attempt: 1,
    retries: [],
    stages: [],
    steps: records,
    ...more,
  } as RunView;
}

/** Where a step's detail starts: two spaces, its name (23 wide here), two, its status (9), two. */
const UNDER = " ".repeat(38);
const texts = (run: RunView, now = T0) => progressLines(run, now).map((line) => line.text);

describe("follow's progress lines", () => {
  it("names who may approve as each signs in: email, IAM principal, Slack user; three at most", () => {
    const run = runView([
      { endedAt: at(1), message: "pinned shop/1.2.0.zip" },
      { status: "RUNNING" },
    ]);
    const signOff = run.plan.steps[1] as Extract<PlanStep, { kind: "approval" }>;
    signOff.approvers = [
      { email: "ada@example.com", iam: "arn:aws:iam::000000000000:user/ada" },
      { iam: "arn:aws:iam::000000000000:role/release-managers" },
      { slack: "U024BE7LH" },
      { email: "d@x.io" },
      { email: "e@x.io" },
    ];

    expect(texts(run)[2]).toBe(
      "  sign-off                 RUNNING    waiting for approval: 0 of 2, 5 approvers asked (ada@example.com / user/ada, role/release-managers, Slack U024BE7LH, 2 more)",
    );
  });

  it("shows an approval's count of approvals and where to decide, never a link itself", () => {
    const run = runView([
      { endedAt: at(1), message: "pinned shop/1.2.0.zip" },
      {
        status: "RUNNING",
        votes: [{ decision: "approve", by: "a@x.io", via: "link", approver: 0, at: at(2) }],
        request: { generation: 1, issuedAt: at(1), sentAt: at(1), links: 2, expiresAt: at(3601) },
      },
    ]);

    expect(texts(run)).toEqual([
      `run ${ID}  shop  bundle shop/1.2.0.zip  RUNNING`,
      "  source                   SUCCEEDED  pinned shop/1.2.0.zip",
      `  sign-off                 RUNNING    waiting for approval: 1 of 2, 2 approvers asked (a@x.io, b@x.io), 2 personal links sent, until ${at(3601)}`,
      `${UNDER}decide, as an approver: sluice approve ${ID}  |  sluice reject ${ID} --reason <why>`,
      `${UNDER}or the approver's own link, mailed: <api>/approvals/<token>`,
      "  production/one-box       pending",
      "  production/one-box/bake  pending",
      "  production/rest          pending",
    ]);
  });

  it("suggests commands as the person runs the CLI: through npm in a checkout, else as sluice", () => {
    const run = runView([
      { endedAt: at(1), message: "pinned shop/1.2.0.zip" },
      { status: "RUNNING", votes: [] },
    ]);
    const hint = (command: string) =>
      progressLines(run, T0, { api: "<api>", command }).find((line) => line.text.includes("decide"))
        ?.text;

    expect(invocation({ npm_lifecycle_event: "sluice" })).toBe("npm run sluice --");
    expect(invocation({ npm_lifecycle_event: "test" })).toBe("sluice");
    expect(invocation({})).toBe("sluice");
    expect(hint(invocation({ npm_lifecycle_event: "sluice" }))).toContain(
      `npm run sluice -- approve ${ID}  |  npm run sluice -- reject ${ID} --reason <why>`,
    );
  });

  it("names, when the CLI signs as the local user, a user the approval lists who has not voted", () => {
    const run = runView([
      { endedAt: at(1), message: "pinned shop/1.2.0.zip" },
      {
        status: "RUNNING",
        votes: [{ decision: "approve", by: "ada@example.com", via: "api", approver: 2, at: at(2) }],
      },
    ]);
    const signOff = run.plan.steps[1] as Extract<PlanStep, { kind: "approval" }>;
    signOff.approvers = [
      { email: "bo@example.com" },
      // Another account's user: the local stack never signs as one.
      { iam: "arn:aws:iam::123456789012:user/cy" },
      { email: "ada@example.com", iam: "arn:aws:iam::000000000000:user/ada" },
      { iam: "arn:aws:iam::000000000000:user/dan" },
    ];
    const hint = (localUser: boolean) =>
      progressLines(run, T0, {
        api: "http://127.0.0.1:3000",
        command: "npm run sluice --",
        localUser,
      }).find((line) => line.text.includes("decide"))?.text;

    expect(hint(true)).toContain(
      `SLUICE_LOCAL_USER=dan npm run sluice -- approve ${ID}  |  SLUICE_LOCAL_USER=dan npm run sluice -- reject ${ID}`,
    );
    // A token, or credentials of the person's own, decide as whoever they name.
    expect(hint(false)).toContain(`decide, as an approver: npm run sluice -- approve ${ID}`);
  });

  it("prints, piped, a run's new status after the lines of the steps that brought it there", async () => {
    const running = runView([{}, { status: "RUNNING", votes: [] }]);
    const ended = runView([{}, { approval: { decision: "approve", by: "a@x.io", at: at(5) } }], {
      status: "SUCCEEDED",
      endedAt: at(6),
    });
    let polls = 0;
    const api = await serve(() => (polls++ === 0 ? running : ended));

    const { code, text } = await sluiceAt(api, ["follow", ID, "--interval", "0.01"]);

    const lines = text.split("\n");
    const header = (status: string) =>
      lines.indexOf(`run ${ID}  shop  bundle shop/1.2.0.zip  ${status}`);
    const decided = lines.findIndex((line) =>
      /^ {2}sign-off +SUCCEEDED +approved by a@x\.io/.test(line),
    );
    expect(code).toBe(0);
    expect(header("RUNNING")).toBe(0);
    expect(decided).toBeGreaterThan(0);
    expect(header("SUCCEEDED")).toBe(decided + 1);
  });

  it("has sluice run name the local user only where it signs as one, not with a token", async () => {
    const run = runView([
      { endedAt: at(1), message: "pinned shop/1.2.0.zip" },
      { status: "RUNNING", votes: [] },
    ]);
    run.stages = [
      { name: "sign-off", status: "RUNNING", startedAt: at(1), attempt: 1 },
    ] as RunView["stages"];
    const signOff = run.plan.steps[1] as Extract<PlanStep, { kind: "approval" }>;
    signOff.approvers = [{ iam: "arn:aws:iam::000000000000:user/ada" }];
    const api = await serve(() => run);

    const signed = await sluiceAt(api, ["run", ID]);
    const withToken = await sluiceAt(api, ["run", ID, "--token", "a.b.c"]);

    expect(signed.text).toContain(
      `decide, as an approver: SLUICE_LOCAL_USER=ada sluice approve ${ID}`,
    );
    expect(withToken.text).toContain(`decide, as an approver: sluice approve ${ID}`);
  });

  it("lets sluice run say, of the approval a run waits in, how far it is and where to decide", () => {
    const stages = [
      { name: "source", status: "SUCCEEDED", startedAt: at(0), endedAt: at(1), attempt: 1 },
      { name: "sign-off", status: "RUNNING", startedAt: at(1), attempt: 1 },
    ] as RunView["stages"];
    const run = runView(
      [
        { endedAt: at(1), message: "pinned shop/1.2.0.zip" },
        { status: "RUNNING", votes: [] },
      ],
      { stages },
    );
    const done = runView([{}, { approval: { decision: "approve", by: "a@x.io", at: at(5) } }], {
      stages: [
        stages[0],
        { ...stages[1], status: "SUCCEEDED", endedAt: at(5) },
      ] as RunView["stages"],
    });

    const shown = formatRun(run, { api: "http://127.0.0.1:3000", command: "sluice" });

    expect(shown).toContain(
      "\n             waiting for approval: 0 of 2, 2 approvers asked (a@x.io, b@x.io)\n",
    );
    expect(shown).toContain(`decide, as an approver: sluice approve ${ID}  |  sluice reject ${ID}`);
    expect(shown).toContain(
      "or the approver's own link, mailed: http://127.0.0.1:3000/approvals/<token>",
    );
    expect(formatRun(done)).not.toContain("decide");
  });

  it("counts hosts of a deployment and counts down a bake from its start and length", () => {
    const hosts = [
      { id: "h1", status: "Succeeded" },
      { id: "h2", status: "Succeeded" },
      { id: "h3", status: "Failed", failure: "ValidateService" },
    ];
    const run = runView([
      {},
      { approval: { decision: "approve", by: "a@x.io", at: at(5) } },
      {
        deployment: { deploymentId: "d-1", deploymentGroup: "prod-1", status: "Succeeded", hosts },
      },
      { status: "RUNNING", startedAt: at(10) },
    ]);

    const lines = texts(run, T0 + 38_000);

    expect(lines[2]).toBe("  sign-off                 SUCCEEDED  approved by a@x.io");
    expect(lines[3]).toBe("  production/one-box       SUCCEEDED  prod-1, 2/3 hosts, 1 failed");
    expect(lines[4]).toBe("  production/one-box/bake  RUNNING    baking, 4:32 left");
    // Without a terminal the line is printed again when its state changes, not every second.
    const [before, after] = [T0 + 38_000, T0 + 39_000].map((now) => progressLines(run, now)[4]);
    expect(before?.state).toBe(after?.state);
    expect(before?.text).not.toBe(after?.text);
  });

  it("says where a deployment in progress goes, and a rollback under its wave", () => {
    const run = runView([
      {},
      {},
      {
        status: "FAILED",
        message: "deployment d-2 to prod-1 failed",
        rollback: { status: "RUNNING", message: "back to shop/1.1.0.zip" },
      },
    ]);
    const deploying = runView([{}, {}, { status: "RUNNING", deploymentId: "d-3" }]);

    expect(texts(run).slice(3, 5)).toEqual([
      "  production/one-box       FAILED     prod-1: deployment d-2 to prod-1 failed",
      `${UNDER}rollback RUNNING: back to shop/1.1.0.zip`,
    ]);
    expect(texts(deploying)[3]).toBe("  production/one-box       RUNNING    deploying to prod-1");
  });

  it("says what holds a held wave, as its step's message does, not that it deploys", () => {
    const lock = `deployment group shop/prod-1 is locked by run 01J1 (app jobs, production/wave-1), its lease until ${at(600)}`;
    const run = runView([
      {},
      {},
      {
        status: "RUNNING",
        message: `held: ${lock}`,
        hold: { since: at(1), blockers: [{ kind: "lock", message: lock, holder: "01J1" }] },
      },
    ]);

    expect(texts(run)[3]).toBe(`  production/one-box       RUNNING    held: ${lock}`);
  });

  it("ends with the outcome, how long the run took and why it failed", () => {
    const failed = runView([], {
      status: "ROLLED_BACK",
      endedAt: at(192),
      error: { error: "DeploymentFailed", cause: "2 hosts failed" },
    });

    expect(outcomeLine(failed)).toBe(
      `run ${ID} ROLLED_BACK after 3m12s: DeploymentFailed: 2 hosts failed`,
    );
    expect(outcomeLine(runView([], { status: "SUCCEEDED", endedAt: at(42) }))).toBe(
      `run ${ID} SUCCEEDED after 42s`,
    );
  });

  it("writes countdowns as a clock and durations in their largest units", () => {
    expect([clock(272), clock(3600), clock(5), clock(3872)]).toEqual([
      "4:32",
      "1:00:00",
      "0:05",
      "1:04:32",
    ]);
    expect([duration(42), duration(192), duration(7500), duration(273600)]).toEqual([
      "42s",
      "3m12s",
      "2h05m",
      "3d4h",
    ]);
  });
});

/** A production deployment of a release that failed, an hour after its run was created. */
const FAILED_RELEASE = {
  runId: "a",
  kind: "release",
  outcome: "failed",
  at: "2026-01-02T12:00:00Z",
  changeAt: "2026-01-02T11:00:00Z",
  changeAtSource: "run-created",
} as const;

describe("sluice metrics' lines", () => {
  it("say which lead times were timed from the run's creation, having no commit time", () => {
    const succeeded = (runId: string, changeAtSource: "commit" | "run-created") =>
      ({ ...FAILED_RELEASE, runId, outcome: "succeeded", changeAtSource }) as const;
    const metrics = deliveryMetrics(
      [succeeded("a", "commit"), succeeded("b", "commit"), succeeded("c", "run-created")],
      { from: "2026-01-01T00:00:00.000Z", to: "2026-01-08T00:00:00.000Z" },
    );

    expect(formatMetrics({ app: "shop", productionStage: "production", ...metrics })).toContain(
      "median 1h00m over 3 releases (timed 2 from the commit, 1 from the run's creation: no commit time known)",
    );
  });

  it("gives each of the five metrics with what it was computed from", () => {
    const metrics = deliveryMetrics(
      [
        FAILED_RELEASE,
        {
          runId: "b",
          kind: "rollback",
          outcome: "succeeded",
          at: "2026-01-02T12:30:00Z",
          changeAt: "2026-01-02T12:10:00Z",
          changeAtSource: "run-created",
        },
        {
          runId: "c",
          kind: "release",
          outcome: "succeeded",
          at: "2026-01-03T12:00:00Z",
          changeAt: "2026-01-03T10:00:00Z",
          changeAtSource: "commit",
        },
      ],
      { from: "2026-01-01T00:00:00.000Z", to: "2026-01-08T00:00:00.000Z" },
    );

    expect(formatMetrics({ app: "shop", productionStage: "production", ...metrics })).toBe(
      [
        "app shop, 2026-01-01T00:00:00.000Z → 2026-01-08T00:00:00.000Z (7 days), production stage production",
        "deployment frequency             0.29 a day, 2.0 a week (2 successful production deployments)",
        "change lead time                 median 2h00m over 1 release (timed 1 from the commit)",
        "change fail rate                 33% (1 of 3 production deployments failed)",
        "failed deployment recovery time  median 30m00s over 1 recovered incident",
        "deployment rework rate           33% (1 of 3 production deployments remediated a failed one)",
        "",
      ].join("\n"),
    );
  });
});

describe("sluice metrics' lines, before there is anything to measure", () => {
  it("says why each metric has no value rather than a median over nothing", () => {
    const period = { from: "2026-01-01T00:00:00.000Z", to: "2026-01-08T00:00:00.000Z" };
    const none = deliveryMetrics([], period);
    const failing = deliveryMetrics([FAILED_RELEASE], period);

    expect(formatMetrics({ app: "shop", productionStage: "production", ...none })).toBe(
      [
        "app shop, 2026-01-01T00:00:00.000Z → 2026-01-08T00:00:00.000Z (7 days), production stage production",
        "deployment frequency             0.00 a day, 0.0 a week (0 successful production deployments)",
        "change lead time                 n/a (no release reached production)",
        "change fail rate                 n/a (no production deployments)",
        "failed deployment recovery time  n/a (no failed deployments)",
        "deployment rework rate           n/a (no production deployments)",
        "",
      ].join("\n"),
    );
    expect(formatMetrics({ app: "shop", productionStage: "production", ...failing })).toContain(
      "failed deployment recovery time  n/a (1 not recovered yet)\n",
    );
  });
});

describe("sluice follow without a terminal", () => {
  it("prints each line as its step changes, indented as on a terminal", async () => {
    const run = runView(
      [
        { endedAt: at(1), message: "pinned shop/1.2.0.zip" },
        { endedAt: at(5), approval: { decision: "approve", by: "a@x.io", at: at(5) } },
        {
          status: "FAILED",
          endedAt: at(190),
          message: "deployment d-2 to prod-1 failed",
          rollback: { status: "SUCCEEDED", message: "back to shop/1.1.0.zip" },
        },
      ],
      {
        status: "ROLLED_BACK",
        endedAt: at(192),
        error: { error: "DeploymentFailed", cause: "2 hosts failed" },
      },
    );
    const api = await serve(() => run);

    const { code, text } = await sluiceAt(api, ["follow", ID]);

    expect(code).toBe(1);
    expect(text).toBe(
      [
        `run ${ID}  shop  bundle shop/1.2.0.zip  ROLLED_BACK`,
        "  source                   SUCCEEDED  pinned shop/1.2.0.zip",
        "  sign-off                 SUCCEEDED  approved by a@x.io",
        "  production/one-box       FAILED     prod-1: deployment d-2 to prod-1 failed",
        `${UNDER}rollback SUCCEEDED: back to shop/1.1.0.zip`,
        `run ${ID} ROLLED_BACK after 3m12s: DeploymentFailed: 2 hosts failed`,
        "",
      ].join("\n"),
    );
  });
});

describe("--token", () => {
  it("sends the token as a bearer token to the people's /api routes instead of a SigV4 signature, from the option or SLUICE_TOKEN", async () => {
    const seen: (string | undefined)[] = [];
    const paths: (string | undefined)[] = [];
    const api = await serve((req) => {
      seen.push(req.headers.authorization);
      paths.push(req.url);
      return { apps: [] };
    });
    const io = (env: NodeJS.ProcessEnv) => ({ stdout: () => {}, stderr: () => {}, env });

    expect(await main(["apps", "--api", api, "--token", "eyJ.a.b"], io({}))).toBe(0);
    expect(await main(["apps", "--api", api], io({ SLUICE_TOKEN: "local-token" }))).toBe(0);
    expect(await main(["apps", "--api", api], io({}))).toBe(0);

    expect(seen.slice(0, 2)).toEqual(["Bearer eyJ.a.b", "Bearer local-token"]);
    expect(seen[2]).toMatch(/^AWS4-HMAC-SHA256 Credential=local-/);
    // A person's token goes to the people's routes (a JWT authorizer's), a signature to IAM's.
    expect(paths).toEqual(["/api/apps", "/api/apps", "/apps"]);
  });
});
