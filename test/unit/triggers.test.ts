import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { matchTriggers, type Trigger, TriggerSchema } from "../../domain/triggers";
import type { Change } from "../../domain/webhooks/change";

function push(overrides: Partial<Change> & Pick<Change, "refType" | "refName">): Change {
  const prefix = overrides.refType === "branch" ? "refs/heads/" : "refs/tags/";
  return {
    provider: "github",
    deliveryId: "delivery-1",
    repo: { fullName: "acme/shop", cloneUrl: "https://git.example.com/acme/shop.git" },
    ref: `${prefix}${overrides.refName}`,
    commitSha: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
    author: "Ada",
    message: "Ship it",
    changedPaths: ["src/app.ts"],
    receivedAt: "2025-01-02T03:04:05.000Z",
    ...overrides,
  };
}

const branch = (refName: string, changedPaths: string[] | null = ["src/app.ts"]) =>
  push({ refType: "branch", refName, changedPaths });
const tag = (refName: string) => push({ refType: "tag", refName, changedPaths: null });

/** Triggers as a pipeline definition writes them, defaults filled in by the schema. */
function triggers(...written: unknown[]): Trigger[] {
  return written.map((trigger) => TriggerSchema.parse(trigger));
}

describe("matchTriggers", () => {
  it("starts every branch and tag push when the pipeline has no triggers", () => {
    // Act
    const results = [
      matchTriggers([], branch("anything/at-all")),
      matchTriggers([], tag("v0.0.1")),
    ];

    // Assess
    expect(results).toEqual([
      { matched: true, trigger: -1 },
      { matched: true, trigger: -1 },
    ]);
  });

  describe("branches", () => {
    const releaseAndMain = triggers({ branches: { includes: ["main", "release/*"] } });

    it.each(["main", "release/1.2"])("matches %s through an include", (name) => {
      // Act
      const result = matchTriggers(releaseAndMain, branch(name));

      // Assess
      expect(result).toEqual({ matched: true, trigger: 0 });
    });

    it("does not let * cross a slash, and says what the branches were", () => {
      // Act
      const result = matchTriggers(releaseAndMain, branch("release/1.2/hotfix"));

      // Assess
      expect(result).toEqual({
        matched: false,
        reason: 'branch "release/1.2/hotfix" matches no trigger (branches: main, release/*)',
      });
    });

    it("explains a branch that matches nothing", () => {
      // Act
      const result = matchTriggers(releaseAndMain, branch("dev"));

      // Assess
      expect(result).toEqual({
        matched: false,
        reason: 'branch "dev" matches no trigger (branches: main, release/*)',
      });
    });

    it("lets ** cross slashes", () => {
      // Prepare
      const features = triggers({ branches: { includes: ["feature/**"] } });

      // Act
      const result = matchTriggers(features, branch("feature/checkout/retry"));

      // Assess
      expect(result).toEqual({ matched: true, trigger: 0 });
    });

    it("lets an exclude win over an include", () => {
      // Prepare
      const releases = triggers({
        branches: { includes: ["release/*"], excludes: ["release/legacy"] },
      });

      // Act
      const result = matchTriggers(releases, branch("release/legacy"));

      // Assess
      expect(result).toEqual({
        matched: false,
        reason:
          'branch "release/legacy" matches no trigger (branches: release/* except release/legacy)',
      });
    });

    it("takes every branch but the excluded ones when only excludes are given", () => {
      // Prepare
      const notBots = triggers({ branches: { excludes: ["dependabot/**"] } });

      // Act
      const results = [
        matchTriggers(notBots, branch("main")),
        matchTriggers(notBots, branch("dependabot/npm/zod-4")),
      ];

      // Assess
      expect(results).toEqual([
        { matched: true, trigger: 0 },
        {
          matched: false,
          reason:
            'branch "dependabot/npm/zod-4" matches no trigger (branches: any except dependabot/**)',
        },
      ]);
    });

    it("does not start a tag push from a trigger that only filters branches", () => {
      // Act
      const result = matchTriggers(releaseAndMain, tag("main"));

      // Assess
      expect(result).toEqual({
        matched: false,
        reason: 'tag "main" matches no trigger (no trigger filters tags)',
      });
    });

    it("matches a literal branch name, whatever characters it holds", () => {
      fc.assert(
        fc.property(fc.stringMatching(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/), (name) => {
          // Prepare
          const exact = triggers({ branches: { includes: [name] } });

          // Act
          const result = matchTriggers(exact, branch(name));

          // Assess
          expect(result).toEqual({ matched: true, trigger: 0 });
        }),
      );
    });
  });

  describe("tags", () => {
    const versions = triggers({ tags: { includes: ["v*"], excludes: ["v*-rc*"] } });

    it("matches a tag push through its include", () => {
      // Act
      const result = matchTriggers(versions, tag("v1.2.0"));

      // Assess
      expect(result).toEqual({ matched: true, trigger: 0 });
    });

    it("refuses an excluded tag and a branch push", () => {
      // Act
      const results = [
        matchTriggers(versions, tag("v1.3.0-rc1")),
        matchTriggers(versions, branch("v1")),
      ];

      // Assess
      expect(results).toEqual([
        { matched: false, reason: 'tag "v1.3.0-rc1" matches no trigger (tags: v* except v*-rc*)' },
        { matched: false, reason: 'branch "v1" matches no trigger (no trigger filters branches)' },
      ]);
    });
  });

  it("matches nothing with a trigger that has neither branches nor tags, and says so", () => {
    // Prepare
    const pathsOnly = triggers({ filePaths: { includes: ["src/**"] } });

    // Act
    const result = matchTriggers(pathsOnly, branch("main"));

    // Assess
    expect(result).toEqual({
      matched: false,
      reason:
        'branch "main" matches no trigger (no trigger filters branches); trigger 0 has neither branches nor tags and matches nothing',
    });
  });

  describe("file paths", () => {
    const serviceCode = triggers({
      branches: { includes: ["main"] },
      filePaths: { includes: ["src/**", "package.json"], excludes: ["src/**/*.md"] },
    });

    it("needs one changed path that is included and not excluded", () => {
      // Act
      const result = matchTriggers(serviceCode, branch("main", ["README.md", "src/cart/total.ts"]));

      // Assess
      expect(result).toEqual({ matched: true, trigger: 0 });
    });

    it("refuses a push whose every path is left out, naming them and the filter", () => {
      // Act
      const result = matchTriggers(serviceCode, branch("main", ["README.md", "src/cart/NOTES.md"]));

      // Assess
      expect(result).toEqual({
        matched: false,
        reason:
          'branch "main" matches trigger 0, but none of the 2 changed paths (README.md, src/cart/NOTES.md) passes its filePaths (src/**, package.json except src/**/*.md)',
      });
    });

    it("counts any path not excluded when only excludes are given", () => {
      // Prepare
      const notDocs = triggers({
        branches: { includes: ["main"] },
        filePaths: { excludes: ["docs/**", "**/*.md"] },
      });

      // Act
      const results = [
        matchTriggers(notDocs, branch("main", ["docs/guide.md", "infra/stack.yml"])),
        matchTriggers(notDocs, branch("main", ["docs/guide.md", "CHANGELOG.md"])),
      ];

      // Assess
      expect(results[0]).toEqual({ matched: true, trigger: 0 });
      expect(results[1]).toMatchObject({ matched: false });
    });

    it("treats dot files as ordinary paths", () => {
      // Prepare
      const ci = triggers({ branches: { includes: ["main"] }, filePaths: { includes: ["**"] } });

      // Act
      const result = matchTriggers(ci, branch("main", [".github/workflows/deploy.yml"]));

      // Assess
      expect(result).toEqual({ matched: true, trigger: 0 });
    });

    it("deploys when the host did not say which files changed", () => {
      // Act
      const result = matchTriggers(serviceCode, branch("main", null));

      // Assess
      expect(result).toEqual({ matched: true, trigger: 0 });
    });

    it("shortens a long list of changed paths in the reason", () => {
      // Prepare
      const paths = Array.from({ length: 8 }, (_, index) => `docs/page-${index}.txt`);

      // Act
      const result = matchTriggers(serviceCode, branch("main", paths));

      // Assess
      expect(result.matched).toBe(false);
      expect(!result.matched && result.reason).toContain("none of the 8 changed paths");
      expect(!result.matched && result.reason).toContain(`${paths[4]}, …`);
      expect(!result.matched && result.reason).not.toContain(paths[5]);
    });
  });

  it("reports the first trigger that matches", () => {
    // Prepare
    const pipeline = triggers(
      { tags: { includes: ["v*"] } },
      { branches: { includes: ["main"] }, filePaths: { includes: ["infra/**"] } },
      { branches: { includes: ["main"] } },
      { branches: { includes: ["**"] } },
    );

    // Act
    const result = matchTriggers(pipeline, branch("main", ["src/app.ts"]));

    // Assess
    expect(result).toEqual({ matched: true, trigger: 2 });
  });
});
