import { describe, expect, it } from "vitest";
import { auditEntries } from "../../cli/timeline";
import type { AuditEntry } from "../../domain/audit";
import { serve, sluiceAt } from "../support/stub-api";

const RUN = "01J00000000000000000000000";
const AT = "2026-01-05T10:00:00.000Z";
const ADA = "arn:aws:iam::000000000000:user/ada";
/** What every run event's detail carries; a retried run's second attempt. */
const RUN_DETAIL = {
  runId: RUN,
  app: "web",
  status: "RUNNING",
  revision: { type: "bundle", key: "web/1.0.0.tar.gz" },
  at: AT,
  attempt: 2,
};

function event(type: string, detail: Record<string, unknown>, by?: string): AuditEntry {
  return {
    id: "01J00000000000000000000001",
    at: AT,
    app: "web",
    runId: RUN,
    kind: "event",
    type,
    ...(by ? { by } : {}),
    detail: { ...RUN_DETAIL, ...detail },
  };
}

const lines = (entries: AuditEntry[]) =>
  auditEntries(entries).map((entry) => `${entry.what}${entry.by ? ` (by ${entry.by})` : ""}`);

describe("sluice events' lines of the audit trail", () => {
  it("say holds, overrides, retries, stops and rollbacks as the run's record and the commands do", () => {
    const window =
      "outside its deployment window (0 0 1 1 * UTC, 1 min); it opens at 2027-01-01T00:00:00.000Z";
    const override = { by: ADA, reason: "the fix", at: AT, lifted: [] };

    expect(
      lines([
        event("Run Redriven", { action: { by: ADA, reason: "flaky host", at: AT } }, ADA),
        event("Wave Held", {
          stage: "production/one-box",
          blockers: [{ kind: "window", message: window }],
        }),
        event(
          "Wave Overridden",
          { stage: "production/one-box", override: { ...override, what: "hold" } },
          ADA,
        ),
        event(
          "Wave Overridden",
          { stage: "production/one-box/bake", override: { ...override, what: "bake" } },
          ADA,
        ),
        {
          id: "01J00000000000000000000002",
          at: AT,
          app: "web",
          runId: RUN,
          kind: "action",
          type: "stop",
          by: ADA,
          reason: "wrong commit",
        },
        event("Rollback Started", {
          stages: ["production/one-box", "beta"],
          error: { error: "Sluice.Stopped", cause: "stopped" },
        }),
        event("Run Rolled Back", {
          status: "ROLLED_BACK",
          error: { error: "Sluice.Stopped", cause: "stopped" },
          rollbacks: [
            {
              stage: "production/one-box",
              status: "SUCCEEDED",
              message: "rolled back to web/1.0.0.zip by deployment d-2",
              deploymentId: "d-2",
            },
            {
              stage: "beta",
              status: "SKIPPED",
              message: "nothing to roll back to: this was the first deployment to beta",
            },
          ],
        }),
      ]),
    ).toEqual([
      `retried (attempt 2): flaky host (by ${ADA})`,
      `production/one-box (attempt 2) held: ${window}`,
      `production/one-box (attempt 2) let go: the fix (by ${ADA})`,
      `production/one-box/bake (attempt 2) cut short: the fix (by ${ADA})`,
      `stop asked: wrong commit (by ${ADA})`,
      "rollback started (production/one-box, beta): Sluice.Stopped: stopped",
      "run ROLLED_BACK: Sluice.Stopped: stopped; production/one-box: rolled back to web/1.0.0.zip by deployment d-2; beta: nothing to roll back to: this was the first deployment to beta",
    ]);
  });

  it("say an app's freeze as sluice freeze and unfreeze do, and a refused bundle with its code", () => {
    const freeze = {
      app: "web",
      until: "2026-01-08T10:00:00.000Z",
      reason: "holidays",
      by: ADA,
      at: AT,
    };
    const app = (type: string, detail: Record<string, unknown>): AuditEntry => ({
      id: "01J00000000000000000000003",
      at: AT,
      app: "web",
      kind: "event",
      type,
      detail,
    });

    expect(
      lines([
        app("App Frozen", freeze),
        app("App Unfrozen", { ...freeze, liftedBy: ADA, liftReason: "back early" }),
        app("Bundle Rejected", {
          bucket: "releases",
          key: "web/1.0.0.zip",
          code: "MISSING_APPSPEC",
          reason: "the bundle has no appspec.yml at its root",
          at: AT,
          eventId: "01J00000000000000000000004",
        }),
      ]),
    ).toEqual([
      `app web frozen until 2026-01-08T10:00:00.000Z by ${ADA}: holidays`,
      `app web unfrozen by ${ADA} (it was frozen until 2026-01-08T10:00:00.000Z): back early`,
      "bundle web/1.0.0.zip rejected (MISSING_APPSPEC): the bundle has no appspec.yml at its root",
    ]);
  });

  it("name each operator action as the command that asks for it, with its reason", () => {
    const action = (type: string, extra: Partial<AuditEntry> = {}): AuditEntry => ({
      id: "01J00000000000000000000005",
      at: AT,
      app: "web",
      kind: "action",
      type,
      by: ADA,
      ...extra,
    });

    expect(
      lines([
        action("release", { runId: RUN, reason: "hotfix" }),
        action("rollback", { runId: RUN }),
        action("run", { runId: RUN }),
        action("app-put"),
        action("webhook-secret", { detail: { origin: "generated" } }),
        action("freeze", { reason: "holidays" }),
        action("unfreeze"),
        action("teleport", { reason: "beam me up" }),
      ]),
    ).toEqual([
      `release asked: hotfix (by ${ADA})`,
      `rollback asked (by ${ADA})`,
      `run asked (by ${ADA})`,
      `pipeline definition put (by ${ADA})`,
      `webhook secret rotated (generated) (by ${ADA})`,
      `freeze asked: holidays (by ${ADA})`,
      `unfreeze asked (by ${ADA})`,
      `teleport: beam me up (by ${ADA})`,
    ]);
  });

  it("give an event of a type or shape this CLI does not know by its type and reason", () => {
    expect(
      lines([
        { ...event("Wave Teleported", {}), reason: "beam me up" },
        event("Wave Held", { stage: "production/one-box" }),
      ]),
    ).toEqual(["Wave Teleported: beam me up", "Wave Held"]);
  });
});

describe("sluice events of a run", () => {
  it("reads every page of the run's audit trail, and prints it oldest first", async () => {
    const at = (second: number) => `2026-01-05T10:00:0${second}.000Z`;
    const pages = {
      first: [{ ...event("Run Succeeded", { status: "SUCCEEDED" }), at: at(3) }],
      second: [
        { ...event("Run Started", {}), at: at(2) },
        { ...event("Run Queued", { status: "QUEUED", kind: "release" }), at: at(1) },
      ],
    };
    const api = await serve((req) =>
      new URL(req.url ?? "/", "http://api").searchParams.get("cursor") === "second"
        ? { entries: pages.second }
        : { entries: pages.first, nextCursor: "second" },
    );

    const { code, text } = await sluiceAt(api, ["events", RUN]);

    expect(code).toBe(0);
    expect(text).toBe(
      [
        `${at(1)}  run created (release of bundle web/1.0.0.tar.gz)`,
        `${at(2)}  run started`,
        `${at(3)}  run SUCCEEDED`,
        "",
      ].join("\n"),
    );
  });
});
