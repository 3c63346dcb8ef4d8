import { readFileSync } from "node:fs";
import examples from "@octokit/webhooks-examples";
import type { Provider } from "../../../domain/webhooks/change";
import type { IncomingWebhook } from "../../../domain/webhooks/verify";

/** The secret the signature headers under events/webhooks/ were made with (docs/webhooks.md). */
export const SAMPLE_SECRET = "sluice-sample-secret";

export const RECEIVED_AT = new Date("2025-01-02T03:04:05.000Z");

export type GithubSampleName = "push-branch" | "push-tag" | "push-deleted" | "ping";
export type HostSampleName = "push" | "tag-push";

export interface Sample {
  provider: Provider;
  name: string;
  rawBody: string;
  headers: Record<string, string>;
}

export function readEventsFile(path: string): string {
  return readFileSync(new URL(`../../../events/webhooks/${path}`, import.meta.url), "utf8");
}

/** GitHub's payloads come from @octokit/webhooks-examples; only their headers are stored. */
export function githubPayload(name: GithubSampleName): Record<string, unknown> {
  const pick = (event: string, wanted: (example: Record<string, unknown>) => boolean) => {
    const definition = examples.find((candidate) => candidate.name === event);
    const example = (definition?.examples as Record<string, unknown>[] | undefined)?.find(wanted);
    if (example === undefined) throw new Error(`no ${name} example in @octokit/webhooks-examples`);
    return example;
  };
  const isRef = (prefix: string) => (example: Record<string, unknown>) =>
    String(example.ref).startsWith(prefix) && example.deleted === false;
  switch (name) {
    case "push-branch":
      return pick("push", isRef("refs/heads/"));
    case "push-tag":
      return pick("push", isRef("refs/tags/"));
    case "push-deleted":
      return pick("push", (example) => example.deleted === true);
    case "ping":
      return pick("ping", () => true);
  }
}

export function githubSample(name: GithubSampleName): Sample {
  return {
    provider: "github",
    name,
    rawBody: JSON.stringify(githubPayload(name)),
    headers: JSON.parse(readEventsFile(`github/${name}.headers.json`)),
  };
}

export function hostSample(provider: Exclude<Provider, "github">, name: HostSampleName): Sample {
  return {
    provider,
    name,
    rawBody: readEventsFile(`${provider}/${name}.json`),
    headers: JSON.parse(readEventsFile(`${provider}/${name}.headers.json`)),
  };
}

export function allSamples(): Sample[] {
  const names: HostSampleName[] = ["push", "tag-push"];
  return [
    ...(["push-branch", "push-tag", "push-deleted", "ping"] as const).map(githubSample),
    ...(["gitlab", "bitbucket", "gitea"] as const).flatMap((provider) =>
      names.map((name) => hostSample(provider, name)),
    ),
  ];
}

export function incoming(sample: Pick<Sample, "rawBody" | "headers">): IncomingWebhook {
  return { headers: { ...sample.headers }, rawBody: sample.rawBody, receivedAt: RECEIVED_AT };
}
