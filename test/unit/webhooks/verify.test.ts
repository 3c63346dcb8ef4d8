import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Provider } from "../../../domain/webhooks/change";
import { verifyWebhook } from "../../../domain/webhooks/verify";
import {
  allSamples,
  githubSample,
  hostSample,
  incoming,
  RECEIVED_AT,
  SAMPLE_SECRET,
  type Sample,
} from "./samples";

/** The header each host authenticates with, and how it writes it for a body and secret. */
const SCHEMES: Record<
  Provider,
  { header: string; sign: (body: string, secret: string) => string }
> = {
  github: { header: "x-hub-signature-256", sign: (body, secret) => `sha256=${hmac(body, secret)}` },
  bitbucket: { header: "x-hub-signature", sign: (body, secret) => `sha256=${hmac(body, secret)}` },
  gitea: { header: "x-gitea-signature", sign: (body, secret) => hmac(body, secret) },
  gitlab: { header: "x-gitlab-token", sign: (_body, secret) => secret },
};

const PROVIDERS = Object.keys(SCHEMES) as Provider[];

function hmac(body: string, secret: string): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}

function branchSample(provider: Provider): Sample {
  return provider === "github" ? githubSample("push-branch") : hostSample(provider, "push");
}

function signed(provider: Provider, rawBody: string, secret: string) {
  const { header, sign } = SCHEMES[provider];
  return { headers: { [header]: sign(rawBody, secret) }, rawBody, receivedAt: RECEIVED_AT };
}

describe("verifyWebhook", () => {
  it.each(allSamples().map((sample) => [`${sample.provider} ${sample.name}`, sample] as const))(
    "accepts the %s sample as its host signs it",
    async (_label, sample) => {
      // Prepare
      const webhook = incoming(sample);

      // Act
      const authentic = await verifyWebhook(sample.provider, webhook, SAMPLE_SECRET);

      // Assess
      expect(authentic).toBe(true);
    },
  );

  describe.each(PROVIDERS)("%s", (provider) => {
    const sample = branchSample(provider);

    it("rejects a webhook signed with another secret", async () => {
      // Prepare
      const forged = signed(provider, sample.rawBody, "an-attacker-guess");

      // Act
      const authentic = await verifyWebhook(provider, forged, SAMPLE_SECRET);

      // Assess
      expect(authentic).toBe(false);
    });

    it("rejects a webhook signed with a rotated-out secret", async () => {
      // Prepare
      const stale = signed(provider, sample.rawBody, "the-secret-before-rotation");

      // Act
      const authentic = await verifyWebhook(provider, stale, "the-secret-after-rotation");

      // Assess
      expect(authentic).toBe(false);
    });

    it("rejects a webhook without the signature header", async () => {
      // Prepare
      const webhook = incoming(sample);
      delete webhook.headers[SCHEMES[provider].header];

      // Act
      const authentic = await verifyWebhook(provider, webhook, SAMPLE_SECRET);

      // Assess
      expect(authentic).toBe(false);
    });

    it("rejects everything when no secret is configured", async () => {
      // Prepare
      const webhook = signed(provider, sample.rawBody, "");

      // Act
      const authentic = await verifyWebhook(provider, webhook, "");

      // Assess
      expect(authentic).toBe(false);
    });
  });

  describe.each(PROVIDERS.filter((provider) => provider !== "gitlab"))("%s HMAC", (provider) => {
    const sample = branchSample(provider);
    const { header } = SCHEMES[provider];

    it("rejects a body changed after signing", async () => {
      // Prepare
      const webhook = incoming(sample);
      webhook.rawBody = sample.rawBody.replace(
        /[0-9a-f]{40}/,
        "0123456789abcdef0123456789abcdef01234567",
      );

      // Act
      const authentic = await verifyWebhook(provider, webhook, SAMPLE_SECRET);

      // Assess
      expect(webhook.rawBody).not.toBe(sample.rawBody);
      expect(authentic).toBe(false);
    });

    it.each([
      ["cut short", (value: string) => value.slice(0, -2)],
      ["made longer", (value: string) => `${value}00`],
      ["not hex", (value: string) => `${value.slice(0, -1)}g`],
      ["empty", () => ""],
    ])("rejects a signature %s", async (_label, mangle) => {
      // Prepare
      const webhook = incoming(sample);
      webhook.headers[header] = mangle(sample.headers[header] ?? "");

      // Act
      const authentic = await verifyWebhook(provider, webhook, SAMPLE_SECRET);

      // Assess
      expect(authentic).toBe(false);
    });

    it("accepts the digest in upper-case hex", async () => {
      // Prepare
      const webhook = incoming(sample);
      const value = sample.headers[header] ?? "";
      webhook.headers[header] = value.replace(/[0-9a-f]{64}$/, (hex) => hex.toUpperCase());

      // Act
      const authentic = await verifyWebhook(provider, webhook, SAMPLE_SECRET);

      // Assess
      expect(webhook.headers[header]).not.toBe(value);
      expect(authentic).toBe(true);
    });
  });

  it("verifies GitHub's documented example: its secret, payload and X-Hub-Signature-256", async () => {
    // From GitHub's "Validating webhook deliveries": the secret, the payload and the header.
    const webhook = {
      headers: {
        "x-hub-signature-256":
          "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
      },
      rawBody: "Hello, World!",
      receivedAt: RECEIVED_AT,
    };

    expect(await verifyWebhook("github", webhook, "It's a Secret to Everybody")).toBe(true);
    expect(await verifyWebhook("github", webhook, "It's a secret to everybody")).toBe(false);
    expect(
      await verifyWebhook(
        "github",
        { ...webhook, rawBody: "Hello, World?" },
        "It's a Secret to Everybody",
      ),
    ).toBe(false);
  });

  it("does not take GitHub's prefixed form from Gitea, which sends the bare digest", async () => {
    // Prepare
    const sample = hostSample("gitea", "push");
    const webhook = incoming(sample);
    webhook.headers["x-gitea-signature"] = `sha256=${sample.headers["x-gitea-signature"]}`;

    // Act
    const authentic = await verifyWebhook("gitea", webhook, SAMPLE_SECRET);

    // Assess
    expect(authentic).toBe(false);
  });

  it("checks GitLab's token whatever its length, without a signature over the body", async () => {
    // Prepare
    const sample = hostSample("gitlab", "push");
    const near = incoming(sample);
    near.headers["x-gitlab-token"] = `${SAMPLE_SECRET}x`;
    const prefix = incoming(sample);
    prefix.headers["x-gitlab-token"] = SAMPLE_SECRET.slice(0, -1);

    // Act
    const results = await Promise.all([
      verifyWebhook("gitlab", near, SAMPLE_SECRET),
      verifyWebhook("gitlab", prefix, SAMPLE_SECRET),
    ]);

    // Assess
    expect(results).toEqual([false, false]);
  });

  describe("with arbitrary input", () => {
    const headerValue = fc.oneof(
      fc.string(),
      fc.stringMatching(/^sha256=[0-9a-fA-F]{0,70}$/),
      fc.stringMatching(/^[0-9a-f]{64}$/),
      fc.constant(undefined),
    );

    it("never throws and accepts only the host's signature made with the secret", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...PROVIDERS),
          fc.string({ minLength: 1 }),
          fc.string(),
          fc.dictionary(
            fc.constantFrom(...Object.values(SCHEMES).map((s) => s.header)),
            headerValue,
          ),
          fc.boolean(),
          async (provider, secret, rawBody, headers, sendCorrect) => {
            // Prepare
            const { header, sign } = SCHEMES[provider];
            // An empty body is never a webhook, so no HMAC over it is accepted; GitLab's token
            // does not cover the body at all.
            const correct =
              provider === "gitlab" ? secret : rawBody === "" ? undefined : sign(rawBody, secret);
            if (sendCorrect && correct !== undefined) headers[header] = correct;
            const webhook = { headers, rawBody, receivedAt: RECEIVED_AT };

            // Act
            const authentic = await verifyWebhook(provider, webhook, secret);

            // Assess
            const sent = headers[header];
            const matches =
              correct !== undefined &&
              sent !== undefined &&
              (provider === "gitlab" ? sent === correct : sent.toLowerCase() === correct);
            expect(authentic).toBe(matches);
          },
        ),
      );
    });

    it("accepts any body the host signed with the secret", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...PROVIDERS),
          fc.string({ minLength: 1 }),
          fc.string({ minLength: 1 }),
          async (provider, secret, rawBody) => {
            // Prepare
            const webhook = signed(provider, rawBody, secret);

            // Act
            const authentic = await verifyWebhook(provider, webhook, secret);

            // Assess
            expect(authentic).toBe(true);
          },
        ),
      );
    });
  });
});
