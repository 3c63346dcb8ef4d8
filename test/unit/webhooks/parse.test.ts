import { describe, expect, it } from "vitest";
import { type Change, ChangeSchema, type Provider } from "../../../domain/webhooks/change";
import {
  type ParsedWebhook,
  parseWebhook,
  WebhookPayloadError,
} from "../../../domain/webhooks/parse";
import {
  allSamples,
  githubSample,
  hostSample,
  incoming,
  RECEIVED_AT,
  type Sample,
} from "./samples";

// The samples are read as loosely typed JSON so the expectations come from the files.
// biome-ignore lint/suspicious/noExplicitAny: sample payloads are walked by path in assertions
type Json = any;

function body(sample: Sample): Json {
  return JSON.parse(sample.rawBody);
}

function withBody(sample: Sample, edit: (payload: Json) => void): Sample {
  const payload = body(sample);
  edit(payload);
  return { ...sample, rawBody: JSON.stringify(payload) };
}

function changeOf(parsed: ParsedWebhook): Change {
  if (parsed.kind !== "change") throw new Error(`expected a change, got ${JSON.stringify(parsed)}`);
  return parsed.change;
}

function parseError(provider: Provider, sample: Pick<Sample, "rawBody" | "headers">): Error {
  try {
    parseWebhook(provider, incoming(sample));
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected parseWebhook to throw");
}

function unionOfFiles(commits: Json[]): string[] {
  return [
    ...new Set(
      commits.flatMap((commit) => [...commit.added, ...commit.modified, ...commit.removed]),
    ),
  ];
}

describe("parseWebhook", () => {
  it.each(
    allSamples()
      .filter((sample) => sample.name !== "ping" && sample.name !== "push-deleted")
      .map((sample) => [`${sample.provider} ${sample.name}`, sample] as const),
  )("turns the %s sample into a valid change stamped with its arrival", (_label, sample) => {
    // Act
    const change = changeOf(parseWebhook(sample.provider, incoming(sample)));

    // Assess
    expect(ChangeSchema.parse(change)).toEqual(change);
    expect(change.provider).toBe(sample.provider);
    expect(change.receivedAt).toBe(RECEIVED_AT.toISOString());
  });

  describe("github", () => {
    it("reads a branch push", () => {
      // Prepare
      const sample = githubSample("push-branch");
      const payload = body(sample);

      // Act
      const change = changeOf(parseWebhook("github", incoming(sample)));

      // Assess
      expect(change).toMatchObject({
        deliveryId: sample.headers["x-github-delivery"],
        repo: { fullName: payload.repository.full_name, cloneUrl: payload.repository.clone_url },
        ref: payload.ref,
        refType: "branch",
        refName: payload.ref.replace("refs/heads/", ""),
        commitSha: payload.head_commit.id,
        author: payload.head_commit.author.name,
        authorEmail: payload.head_commit.author.email,
        authorUsername: payload.head_commit.author.username,
        message: payload.head_commit.message,
      });
      expect(change.changedPaths?.toSorted()).toEqual(unionOfFiles(payload.commits).toSorted());
    });

    it("leaves the files unknown when the push lists as many commits as GitHub ever lists", () => {
      // Prepare
      const sample = withBody(githubSample("push-branch"), (payload) => {
        const [commit] = payload.commits;
        payload.commits = Array.from({ length: 2048 }, (_, i) => ({
          ...commit,
          id: i.toString(16),
        }));
      });

      // Act
      const change = changeOf(parseWebhook("github", incoming(sample)));

      // Assess
      expect(change.changedPaths).toBeNull();
    });

    it("reads a tag push, whose file list is unknown because it lists no commits", () => {
      // Prepare
      const sample = githubSample("push-tag");
      const payload = body(sample);

      // Act
      const change = changeOf(parseWebhook("github", incoming(sample)));

      // Assess
      expect(payload.commits).toEqual([]);
      expect(change).toMatchObject({
        ref: payload.ref,
        refType: "tag",
        refName: payload.ref.replace("refs/tags/", ""),
        commitSha: payload.head_commit.id,
        changedPaths: null,
      });
    });

    it("deploys the commit an annotated tag points at, not the tag object", () => {
      // Prepare
      const tagObject = "7".repeat(40);
      const sample = withBody(githubSample("push-tag"), (payload) => {
        payload.after = tagObject;
      });

      // Act
      const change = changeOf(parseWebhook("github", incoming(sample)));

      // Assess
      expect(change.commitSha).toBe(body(sample).head_commit.id);
      expect(change.commitSha).not.toBe(tagObject);
    });

    it("ignores a deleted ref and says which", () => {
      // Prepare
      const sample = githubSample("push-deleted");
      const tagName = body(sample).ref.replace("refs/tags/", "");

      // Act
      const parsed = parseWebhook("github", incoming(sample));

      // Assess
      expect(parsed).toEqual({
        kind: "ignored",
        deliveryId: sample.headers["x-github-delivery"],
        reason: expect.stringContaining(`tag "${tagName}" was deleted`),
      });
    });

    it("answers a ping with its delivery id", () => {
      // Prepare
      const sample = githubSample("ping");

      // Act
      const parsed = parseWebhook("github", incoming(sample));

      // Assess
      expect(parsed).toEqual({ kind: "ping", deliveryId: sample.headers["x-github-delivery"] });
    });

    it("uses the pusher when the push has no head commit", () => {
      // Prepare
      const sample = withBody(githubSample("push-branch"), (payload) => {
        payload.head_commit = null;
      });

      // Act
      const change = changeOf(parseWebhook("github", incoming(sample)));

      // Assess
      expect(change).toMatchObject({
        author: body(sample).pusher.name,
        authorEmail: body(sample).pusher.email,
        authorUsername: body(sample).pusher.name,
      });
      expect(change.commitSha).toBe(body(sample).after);
      expect(change.message).toBe("");
    });

    it("leaves out an email GitHub does not give, and a username it does not know", () => {
      // Prepare
      const sample = withBody(githubSample("push-branch"), (payload) => {
        payload.head_commit.author.email = null;
        delete payload.head_commit.author.username;
      });

      // Act
      const change = changeOf(parseWebhook("github", incoming(sample)));

      // Assess
      expect(change.author).toBe(body(sample).head_commit.author.name);
      expect(change).not.toHaveProperty("authorEmail");
      expect(change).not.toHaveProperty("authorUsername");
    });
  });

  describe("gitlab", () => {
    it("reads a push, with no file list when GitLab listed only some of the commits", () => {
      // Prepare
      const sample = hostSample("gitlab", "push");
      const payload = body(sample);
      const head = payload.commits.find((commit: Json) => commit.id === payload.checkout_sha);

      // Act
      const change = changeOf(parseWebhook("gitlab", incoming(sample)));

      // Assess
      expect(payload.total_commits_count).toBeGreaterThan(payload.commits.length);
      expect(change).toEqual({
        provider: "gitlab",
        deliveryId: sample.headers["idempotency-key"],
        repo: {
          fullName: payload.project.path_with_namespace,
          cloneUrl: payload.project.git_http_url,
        },
        ref: payload.ref,
        refType: "branch",
        refName: payload.ref.replace("refs/heads/", ""),
        commitSha: payload.checkout_sha,
        author: head.author.name,
        // The pusher (user_email) is someone else, so their username is not the author's.
        authorEmail: head.author.email,
        message: head.message,
        committedAt: head.timestamp,
        changedPaths: null,
        receivedAt: RECEIVED_AT.toISOString(),
      });
    });

    it("credits the pusher's username to the author when the pusher wrote the head commit", () => {
      // Prepare
      const sample = withBody(hostSample("gitlab", "push"), (payload) => {
        const head = payload.commits.find((commit: Json) => commit.id === payload.checkout_sha);
        payload.user_email = head.author.email.toUpperCase();
      });

      // Act
      const change = changeOf(parseWebhook("gitlab", incoming(sample)));

      // Assess
      expect(change.authorUsername).toBe(body(sample).user_username);
    });

    it("takes no email GitLab redacted", () => {
      // Prepare
      const sample = withBody(hostSample("gitlab", "tag-push"), (payload) => {
        payload.user_username = "jsmith";
        payload.user_email = "[REDACTED]";
      });

      // Act
      const change = changeOf(parseWebhook("gitlab", incoming(sample)));

      // Assess
      expect(change).toMatchObject({ author: "John Smith", authorUsername: "jsmith" });
      expect(change).not.toHaveProperty("authorEmail");
    });

    it("lists the files of every commit when GitLab listed them all", () => {
      // Prepare
      const sample = withBody(hostSample("gitlab", "push"), (payload) => {
        payload.total_commits_count = payload.commits.length;
      });

      // Act
      const change = changeOf(parseWebhook("gitlab", incoming(sample)));

      // Assess
      expect(change.changedPaths?.toSorted()).toEqual(
        unionOfFiles(body(sample).commits).toSorted(),
      );
    });

    it("reads a tag push, crediting the pusher as no commit is listed", () => {
      // Prepare
      const sample = hostSample("gitlab", "tag-push");
      const payload = body(sample);

      // Act
      const change = changeOf(parseWebhook("gitlab", incoming(sample)));

      // Assess
      expect(change).toMatchObject({
        ref: payload.ref,
        refType: "tag",
        refName: payload.ref.replace("refs/tags/", ""),
        commitSha: payload.checkout_sha,
        author: payload.user_name,
        changedPaths: null,
      });
    });

    it("ignores a deleted tag", () => {
      // Prepare
      const sample = withBody(hostSample("gitlab", "tag-push"), (payload) => {
        payload.before = payload.after;
        payload.after = "0".repeat(40);
        payload.checkout_sha = null;
      });

      // Act
      const parsed = parseWebhook("gitlab", incoming(sample));

      // Assess
      expect(parsed).toMatchObject({ kind: "ignored", reason: expect.stringContaining("deleted") });
    });

    it.each([
      ["idempotency-key", []],
      ["x-gitlab-event-uuid", ["idempotency-key"]],
      ["x-gitlab-webhook-uuid", ["idempotency-key", "x-gitlab-event-uuid"]],
    ])("takes the delivery id from %s when the newer headers are absent", (header, absent) => {
      // Prepare
      const sample = hostSample("gitlab", "push");
      const webhook = incoming(sample);
      for (const name of absent) delete webhook.headers[name];

      // Act
      const change = changeOf(parseWebhook("gitlab", webhook));

      // Assess
      expect(change.deliveryId).toBe(sample.headers[header]);
    });
  });

  describe("bitbucket", () => {
    it("reads a branch push, which carries no file list", () => {
      // Prepare
      const sample = hostSample("bitbucket", "push");
      const payload = body(sample);
      const updated = payload.push.changes[0].new;

      // Act
      const change = changeOf(parseWebhook("bitbucket", incoming(sample)));

      // Assess
      expect(change).toEqual({
        provider: "bitbucket",
        deliveryId: sample.headers["x-request-uuid"],
        repo: {
          fullName: payload.repository.full_name,
          cloneUrl: `${payload.repository.links.html.href}.git`,
        },
        ref: `refs/heads/${updated.name}`,
        refType: "branch",
        refName: updated.name,
        commitSha: updated.target.hash,
        author: updated.target.author.user.display_name,
        authorEmail: "emmap1@bitbucket.com",
        authorUsername: updated.target.author.user.username,
        message: updated.target.message,
        changedPaths: null,
        receivedAt: RECEIVED_AT.toISOString(),
      });
    });

    it("reads a tag push", () => {
      // Prepare
      const sample = hostSample("bitbucket", "tag-push");
      const updated = body(sample).push.changes[0].new;

      // Act
      const change = changeOf(parseWebhook("bitbucket", incoming(sample)));

      // Assess
      expect(change).toMatchObject({
        ref: `refs/tags/${updated.name}`,
        refType: "tag",
        refName: updated.name,
        commitSha: updated.target.hash,
      });
    });

    it("takes the author's name from the raw author line when Bitbucket knows no account", () => {
      // Prepare
      const sample = withBody(hostSample("bitbucket", "push"), (payload) => {
        const author = payload.push.changes[0].new.target.author;
        delete author.user;
        author.raw = "Ada Lovelace <ada@example.com>";
      });

      // Act
      const change = changeOf(parseWebhook("bitbucket", incoming(sample)));

      // Assess
      expect(change).toMatchObject({ author: "Ada Lovelace", authorEmail: "ada@example.com" });
      expect(change).not.toHaveProperty("authorUsername");
    });

    it("names the account by its nickname, which Bitbucket sends instead of a username now", () => {
      // Prepare
      const sample = withBody(hostSample("bitbucket", "push"), (payload) => {
        const { user } = payload.push.changes[0].new.target.author;
        delete user.username;
        user.nickname = "emma-p";
      });

      // Act
      const change = changeOf(parseWebhook("bitbucket", incoming(sample)));

      // Assess
      expect(change.authorUsername).toBe("emma-p");
    });

    it("credits the actor when the commit names no author", () => {
      // Prepare
      const sample = withBody(hostSample("bitbucket", "push"), (payload) => {
        delete payload.push.changes[0].new.target.author;
      });

      // Act
      const change = changeOf(parseWebhook("bitbucket", incoming(sample)));

      // Assess
      expect(change).toMatchObject({
        author: body(sample).actor.display_name,
        authorUsername: body(sample).actor.username,
      });
      expect(change).not.toHaveProperty("authorEmail");
    });

    it("ignores a deleted branch and says which", () => {
      // Prepare
      const sample = withBody(hostSample("bitbucket", "push"), (payload) => {
        payload.push.changes[0].new = null;
      });
      const name = body(sample).push.changes[0].old.name;

      // Act
      const parsed = parseWebhook("bitbucket", incoming(sample));

      // Assess
      expect(parsed).toEqual({
        kind: "ignored",
        deliveryId: sample.headers["x-request-uuid"],
        reason: expect.stringContaining(`branch "${name}" was deleted`),
      });
    });

    it("starts from the first ref that still exists when one push changes several", () => {
      // Prepare
      const branchPush = body(hostSample("bitbucket", "push")).push.changes[0];
      const tagPush = body(hostSample("bitbucket", "tag-push")).push.changes[0];
      const sample = withBody(hostSample("bitbucket", "push"), (payload) => {
        payload.push.changes = [{ ...branchPush, new: null }, tagPush];
      });

      // Act
      const change = changeOf(parseWebhook("bitbucket", incoming(sample)));

      // Assess
      expect(change.refName).toBe(tagPush.new.name);
    });
  });

  describe("gitea", () => {
    it("reads a push; the documented sample lists commits without their files", () => {
      // Prepare
      const sample = hostSample("gitea", "push");
      const payload = body(sample);

      // Act
      const change = changeOf(parseWebhook("gitea", incoming(sample)));

      // Assess
      expect(change).toEqual({
        provider: "gitea",
        deliveryId: sample.headers["x-gitea-delivery"],
        repo: { fullName: payload.repository.full_name, cloneUrl: payload.repository.clone_url },
        ref: payload.ref,
        refType: "branch",
        refName: payload.ref.replace("refs/heads/", ""),
        commitSha: payload.after,
        author: payload.commits[0].author.name,
        authorEmail: payload.commits[0].author.email,
        authorUsername: payload.commits[0].author.username,
        message: payload.commits[0].message,
        committedAt: payload.commits[0].timestamp,
        changedPaths: null,
        receivedAt: RECEIVED_AT.toISOString(),
      });
    });

    it("lists the files of every commit when Gitea sends them, reading null as none", () => {
      // Prepare
      const sample = withBody(hostSample("gitea", "push"), (payload) => {
        payload.commits[0].added = ["docs/new.md"];
        payload.commits[0].modified = ["README.md"];
        payload.commits[0].removed = null;
      });

      // Act
      const change = changeOf(parseWebhook("gitea", incoming(sample)));

      // Assess
      expect(change.changedPaths?.toSorted()).toEqual(["README.md", "docs/new.md"]);
    });

    it("reads a tag push", () => {
      // Prepare
      const sample = hostSample("gitea", "tag-push");
      const payload = body(sample);

      // Act
      const change = changeOf(parseWebhook("gitea", incoming(sample)));

      // Assess
      expect(change).toMatchObject({
        ref: payload.ref,
        refType: "tag",
        refName: payload.ref.replace("refs/tags/", ""),
        commitSha: payload.after,
        author: payload.pusher.full_name,
        authorEmail: payload.pusher.email,
        authorUsername: payload.pusher.login,
        changedPaths: null,
      });
    });

    it("ignores a deleted branch", () => {
      // Prepare
      const sample = withBody(hostSample("gitea", "push"), (payload) => {
        payload.after = "0".repeat(40);
        payload.commits = [];
      });

      // Act
      const parsed = parseWebhook("gitea", incoming(sample));

      // Assess
      expect(parsed).toMatchObject({ kind: "ignored", reason: expect.stringContaining("deleted") });
    });

    it.each([
      ["newer Gitea: a fake commit of all zeros", "0".repeat(40)],
      ["older Gitea: the latest commit onto itself", "ab".repeat(20)],
    ])("takes the Test Delivery button's push (%s) as a ping", (_, sha) => {
      // Prepare
      const sample = withBody(hostSample("gitea", "push"), (payload) => {
        payload.before = sha;
        payload.after = sha;
        payload.commits = [{ ...payload.commits[0], id: sha }];
        payload.head_commit = null;
      });

      // Act
      const parsed = parseWebhook("gitea", incoming(sample));

      // Assess
      expect(parsed).toEqual({ kind: "ping", deliveryId: sample.headers["x-gitea-delivery"] });
    });
  });

  it("ignores a push to a ref that is neither a branch nor a tag", () => {
    // Prepare
    const sample = withBody(githubSample("push-branch"), (payload) => {
      payload.ref = "refs/notes/commits";
    });

    // Act
    const parsed = parseWebhook("github", incoming(sample));

    // Assess
    expect(parsed).toMatchObject({
      kind: "ignored",
      reason: expect.stringContaining("refs/notes/commits"),
    });
  });

  describe.each([
    ["github", githubSample("push-branch"), "x-github-event", "x-github-delivery", "issues"],
    ["gitlab", hostSample("gitlab", "push"), "x-gitlab-event", "idempotency-key", "Issue Hook"],
    ["bitbucket", hostSample("bitbucket", "push"), "x-event-key", "x-request-uuid", "repo:fork"],
    ["gitea", hostSample("gitea", "push"), "x-gitea-event", "x-gitea-delivery", "create"],
  ] as const)("%s errors", (provider, sample, eventHeader, deliveryHeader, otherEvent) => {
    it("rejects malformed JSON", () => {
      // Act
      const error = parseError(provider, { ...sample, rawBody: sample.rawBody.slice(0, -10) });

      // Assess
      expect(error).toBeInstanceOf(WebhookPayloadError);
      expect(error.name).toBe("WebhookPayloadError");
      expect(error.message).toMatch(/not valid JSON/);
    });

    it("names the event it does not take", () => {
      // Act
      const error = parseError(provider, {
        ...sample,
        headers: { ...sample.headers, [eventHeader]: otherEvent },
      });

      // Assess
      expect(error).toBeInstanceOf(WebhookPayloadError);
      expect(error.message).toContain(`unsupported event "${otherEvent}"`);
    });

    it("says which header is missing", () => {
      // Prepare
      const headers = { ...sample.headers };
      delete headers[eventHeader];

      // Act
      const error = parseError(provider, { ...sample, headers });

      // Assess
      expect(error).toBeInstanceOf(WebhookPayloadError);
      expect(error.message).toContain(eventHeader);
    });

    it("refuses a push without a delivery id", () => {
      // Prepare
      const headers = { ...sample.headers };
      for (const name of Object.keys(headers)) {
        if (name === deliveryHeader || /uuid|delivery/.test(name)) delete headers[name];
      }

      // Act
      const error = parseError(provider, { ...sample, headers });

      // Assess
      expect(error).toBeInstanceOf(WebhookPayloadError);
      expect(error.message).toContain(deliveryHeader);
    });
  });

  it.each([
    [
      "github",
      githubSample("push-branch"),
      (p: Json) => delete p.repository.clone_url,
      "repository.clone_url",
    ],
    ["gitlab", hostSample("gitlab", "push"), (p: Json) => delete p.project, "project"],
    [
      "bitbucket",
      hostSample("bitbucket", "push"),
      (p: Json) => delete p.push.changes[0].new.target.hash,
      "push.changes.0.new.target.hash",
    ],
    ["gitea", hostSample("gitea", "push"), (p: Json) => delete p.after, "after"],
  ] as const)("names the field a %s payload lacks", (provider, sample, remove, path) => {
    // Prepare
    const broken = withBody(sample, remove);

    // Act
    const error = parseError(provider, broken);

    // Assess
    expect(error).toBeInstanceOf(WebhookPayloadError);
    expect(error.message).toContain(path);
  });
});
