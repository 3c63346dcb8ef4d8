import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeliveryLog } from "../../adapters/delivery-log";
import type { Change, Provider } from "../../domain/webhooks/change";
import { parseWebhook } from "../../domain/webhooks/parse";
import { startTestStack } from "../support/local-stack";
import {
  appWithSecret,
  type Delivery,
  deliver,
  deliveryIdOf,
  EVENT_HEADERS,
  pushSample,
  rotateSecret,
  runsOf,
  sign,
  signedDelivery,
  unsigned,
  withDeliveryId,
} from "../support/webhooks";
import { githubSample, incoming, type Sample } from "../unit/webhooks/samples";

const PROVIDERS: Provider[] = ["github", "gitlab", "bitbucket", "gitea"];
const SRC_ONLY =
  "triggers:\n  - branches: { includes: ['**'] }\n    filePaths: { includes: [src/**] }\n";
const UNSUPPORTED_EVENTS: Record<Provider, string> = {
  github: "issues",
  gitlab: "Issue Hook",
  bitbucket: "repo:fork",
  gitea: "issues",
};

let stack: Awaited<ReturnType<typeof startTestStack>>;
let doc: DynamoDBDocumentClient;
let apps = 0;

beforeAll(async () => {
  stack = await startTestStack();
  doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
});
afterAll(() => stack.cleanup());

/** A fresh app per test, so its runs are the test's own; `parallel` keeps the queue out of it. */
function newApp(provider: Provider, pipeline = "") {
  apps += 1;
  return appWithSecret(stack, `${provider}-${apps}`, `executionMode: parallel\n${pipeline}`);
}

function changeOf(sample: Sample): Change {
  const parsed = parseWebhook(sample.provider, incoming(sample));
  if (parsed.kind !== "change") throw new Error(`${sample.name} is not a change`);
  return parsed.change;
}

function deliveryRecord(app: string, provider: Provider, deliveryId: string) {
  return new DeliveryLog(doc, stack.resources.table).get({ app, provider, deliveryId });
}

/** The same push, but with the changed files listed in full, as each host writes them. */
function withListedPaths(sample: Sample): Sample {
  const payload = JSON.parse(sample.rawBody);
  if (sample.provider === "gitlab") payload.total_commits_count = payload.commits.length;
  if (sample.provider === "gitea") {
    for (const commit of payload.commits) {
      Object.assign(commit, { added: [], modified: ["README.md"], removed: [] });
    }
  }
  return { ...sample, rawBody: JSON.stringify(payload) };
}

describe.each(PROVIDERS)("%s webhooks", (provider) => {
  const branchPush = pushSample(provider, "branch");
  const tagPush = pushSample(provider, "tag");

  it("start exactly one run of the pushed branch commit", async () => {
    // Prepare
    const app = await newApp(provider);
    const expected = changeOf(branchPush);

    // Act
    const res = await deliver(stack, app.name, signedDelivery(branchPush, app.secret));

    // Assess
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ started: true, runId: expect.any(String) });
    const runs = await runsOf(stack, app.name);
    expect(runs).toHaveLength(1);
    expect(runs[0].id).toBe(res.body.runId);
    expect(runs[0].revision).toMatchObject({
      type: "git",
      repository: expected.repo.cloneUrl,
      ref: expected.ref,
      commit: expected.commitSha,
    });
    expect(runs[0].trigger).toMatchObject({ type: "webhook", by: expected.author });
  });

  it("start a run of a pushed tag", async () => {
    const app = await newApp(provider);
    const expected = changeOf(tagPush);

    const res = await deliver(stack, app.name, signedDelivery(tagPush, app.secret));

    expect(res.status).toBe(202);
    expect(res.body.started).toBe(true);
    const runs = await runsOf(stack, app.name);
    expect(runs.map((run) => [run.revision.ref, run.revision.commit])).toEqual([
      [expected.ref, expected.commitSha],
    ]);
  });

  it.each([
    ["forged", (d: Delivery) => sign(d, "not-the-apps-secret")],
    ["missing", (d: Delivery) => d],
  ])("refuse a %s signature with 401, leaving no trace", async (_what, authenticate) => {
    // Prepare
    const app = await newApp(provider);
    const delivery = withDeliveryId(unsigned(branchPush), randomUUID());

    // Act
    const res = await deliver(stack, app.name, authenticate(delivery));

    // Assess
    expect(res.status).toBe(401);
    expect(res.body.message).not.toContain(app.secret);
    expect(await runsOf(stack, app.name)).toEqual([]);
    expect(await deliveryRecord(app.name, provider, deliveryIdOf(delivery))).toBeUndefined();
    const genuine = await deliver(stack, app.name, sign(delivery, app.secret));
    expect(genuine.body.started).toBe(true);
  });

  it("refuse a stale signature made with a rotated-out secret", async () => {
    // Prepare
    const app = await newApp(provider);
    const stale = signedDelivery(branchPush, app.secret);
    const rotated = await rotateSecret(stack, app.name);

    // Act
    const res = await deliver(stack, app.name, stale);

    // Assess
    expect(rotated).not.toBe(app.secret);
    expect(res.status).toBe(401);
    expect(await runsOf(stack, app.name)).toEqual([]);
    expect(await deliveryRecord(app.name, provider, deliveryIdOf(stale))).toBeUndefined();
    const genuine = await deliver(stack, app.name, sign(stale, rotated));
    expect(genuine.body.started).toBe(true);
  });

  // GitHub and Gitea bodies carry the push's time; GitLab's and Bitbucket's do not, so the same
  // bytes from them may be the same change pushed again.
  if (provider === "github" || provider === "gitea") {
    it("start nothing for a genuine signed delivery replayed under another delivery id", async () => {
      // Prepare
      const app = await newApp(provider);
      const original = signedDelivery(branchPush, app.secret);
      const first = await deliver(stack, app.name, original);

      // Act: the same signed bytes, with only the (unsigned) delivery id header changed
      const replay = await deliver(stack, app.name, withDeliveryId(original, randomUUID()));

      // Assess
      expect(first.body.started).toBe(true);
      expect(replay.status).toBe(202);
      expect(replay.body).toMatchObject({
        started: false,
        duplicate: true,
        runId: first.body.runId,
        replayOf: deliveryIdOf(original),
      });
      expect((await runsOf(stack, app.name)).map((run) => run.id)).toEqual([first.body.runId]);
    });
  } else {
    it("start a run again when the same push body comes under another delivery id", async () => {
      const app = await newApp(provider);
      const first = await deliver(stack, app.name, signedDelivery(branchPush, app.secret));

      const again = await deliver(stack, app.name, signedDelivery(branchPush, app.secret));

      expect([first.body.started, again.body.started]).toEqual([true, true]);
      expect(await runsOf(stack, app.name)).toHaveLength(2);
    });
  }

  it("skip a branch the triggers do not include, saying why", async () => {
    const app = await newApp(provider, "triggers:\n  - branches: { includes: [release/**] }\n");
    const { refName } = changeOf(branchPush);

    const res = await deliver(stack, app.name, signedDelivery(branchPush, app.secret));

    expect(res.status).toBe(202);
    expect(res.body.started).toBe(false);
    expect(res.body.reason).toBe(`branch "${refName}" matches no trigger (branches: release/**)`);
    expect(await runsOf(stack, app.name)).toEqual([]);
  });

  it("skip a branch the triggers exclude", async () => {
    const { refName } = changeOf(branchPush);
    const app = await newApp(
      provider,
      `triggers:\n  - branches: { includes: ["**"], excludes: ["${refName}"] }\n`,
    );

    const res = await deliver(stack, app.name, signedDelivery(branchPush, app.secret));

    expect(res.body).toMatchObject({ started: false, reason: expect.stringContaining(refName) });
    expect(await runsOf(stack, app.name)).toEqual([]);
  });

  it("skip a tag the triggers do not take, and start one they do", async () => {
    const { refName } = changeOf(tagPush);
    const app = await newApp(provider, `triggers:\n  - tags: { includes: ["${refName}"] }\n`);
    const branchOnly = await newApp(provider, "triggers:\n  - branches: { includes: ['**'] }\n");

    const taken = await deliver(stack, app.name, signedDelivery(tagPush, app.secret));
    const skipped = await deliver(
      stack,
      branchOnly.name,
      signedDelivery(tagPush, branchOnly.secret),
    );

    expect(taken.body.started).toBe(true);
    expect(skipped.status).toBe(202);
    expect(skipped.body).toEqual({
      started: false,
      reason: `tag "${refName}" matches no trigger (no trigger filters tags)`,
      deliveryId: expect.any(String),
    });
    expect(await runsOf(stack, branchOnly.name)).toEqual([]);
  });

  // Bitbucket Cloud never lists changed files, so a filePaths filter cannot hold its pushes back.
  if (provider === "bitbucket") {
    it("deploy despite a filePaths filter, since Bitbucket lists no changed files", async () => {
      const app = await newApp(provider, SRC_ONLY);

      const res = await deliver(stack, app.name, signedDelivery(branchPush, app.secret));

      expect(res.body.started).toBe(true);
      expect(await runsOf(stack, app.name)).toHaveLength(1);
    });
  } else {
    it("skip a push whose changed files all miss the filePaths filter", async () => {
      const app = await newApp(provider, SRC_ONLY);
      const listed = withListedPaths(branchPush);
      const paths = changeOf(listed).changedPaths;

      const res = await deliver(stack, app.name, signedDelivery(listed, app.secret));

      expect(paths?.length).toBeGreaterThan(0);
      expect(res.status).toBe(202);
      expect(res.body.started).toBe(false);
      expect(res.body.reason).toContain("passes its filePaths (src/**)");
      for (const path of paths ?? []) expect(res.body.reason).toContain(path);
      expect(await runsOf(stack, app.name)).toEqual([]);
    });
  }

  it("start one run for 50 concurrent redeliveries of one delivery", async () => {
    // Prepare
    const app = await newApp(provider);
    const delivery = signedDelivery(branchPush, app.secret);

    // Act
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => deliver(stack, app.name, delivery)),
    );

    // Assess
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(202));
    const started = answers.filter((a) => a.body.started === true);
    const duplicates = answers.filter((a) => a.body.duplicate === true);
    expect(started).toHaveLength(1);
    expect(duplicates).toHaveLength(49);
    const runs = await runsOf(stack, app.name);
    expect(runs.map((run) => run.id)).toEqual([started[0]?.body.runId]);
    expect(new Set(duplicates.map((a) => a.body.runId))).toEqual(new Set([runs[0].id]));
  });

  it("answer 400 to malformed JSON, even when signed", async () => {
    const app = await newApp(provider);
    const malformed = signedDelivery(
      { ...branchPush, rawBody: '{"ref": "refs/heads/' },
      app.secret,
    );

    const res = await deliver(stack, app.name, malformed);

    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/not valid JSON/);
    expect(await runsOf(stack, app.name)).toEqual([]);
    expect(await deliveryRecord(app.name, provider, deliveryIdOf(malformed))).toBeUndefined();
  });

  it("answer 400 to an event Sluice does not take, even when signed", async () => {
    const app = await newApp(provider);
    const headers = {
      ...branchPush.headers,
      [EVENT_HEADERS[provider]]: UNSUPPORTED_EVENTS[provider],
    };

    const res = await deliver(
      stack,
      app.name,
      signedDelivery({ ...branchPush, headers }, app.secret),
    );

    expect(res.status).toBe(400);
    expect(res.body.message).toContain(`unsupported event "${UNSUPPORTED_EVENTS[provider]}"`);
    expect(await runsOf(stack, app.name)).toEqual([]);
  });
});

describe("GitHub events that start nothing", () => {
  it("answers a signed ping with 200 and starts no run", async () => {
    const app = await newApp("github");

    const res = await deliver(stack, app.name, signedDelivery(githubSample("ping"), app.secret));

    expect(res.status).toBe(200);
    expect(res.body.message).toBe("pong");
    expect(await runsOf(stack, app.name)).toEqual([]);
  });

  it("answers a deleted tag with 202 and the reason", async () => {
    const app = await newApp("github");
    const deleted = githubSample("push-deleted");

    const res = await deliver(stack, app.name, signedDelivery(deleted, app.secret));

    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      started: false,
      reason: expect.stringMatching(/was deleted/),
    });
    expect(await runsOf(stack, app.name)).toEqual([]);
  });

  it("refuses an unsigned ping", async () => {
    const app = await newApp("github");

    const res = await deliver(stack, app.name, unsigned(githubSample("ping")));

    expect(res.status).toBe(401);
  });
});
