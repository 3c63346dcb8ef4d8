import { createHash, createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import examples from "@octokit/webhooks-examples";
import { percentile } from "./stats";

/** A signed delivery as GitHub sends it: the body bytes and the headers. */
export interface SignedDelivery {
  body: Buffer;
  headers: Record<string, string>;
}

function branchPushExample(): Record<string, unknown> {
  const push = examples.find((definition) => definition.name === "push");
  const example = (push?.examples as Record<string, unknown>[] | undefined)?.find(
    (e) => String(e.ref).startsWith("refs/heads/") && e.deleted === false,
  );
  if (!example) throw new Error("no branch push in @octokit/webhooks-examples");
  return example;
}

/**
 * `count` GitHub pushes of a branch, each of its own commit (so each starts a run and none is a
 * replay), signed with `secret` as GitHub signs them (X-Hub-Signature-256).
 */
export function githubPushes(secret: string, count: number): SignedDelivery[] {
  const example = branchPushExample();
  const headCommit = example.head_commit as Record<string, unknown>;
  return Array.from({ length: count }, () => {
    const sha = createHash("sha1").update(randomUUID()).digest("hex");
    const body = Buffer.from(
      JSON.stringify({ ...example, after: sha, head_commit: { ...headCommit, id: sha } }),
    );
    return {
      body,
      headers: {
        "content-type": "application/json",
        "user-agent": "GitHub-Hookshot/bench",
        "x-github-event": "push",
        "x-github-delivery": randomUUID(),
        "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
      },
    };
  });
}

export interface LoadResult {
  deliveries: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /**
   * This process's CPU time (user and system, every thread) per delivery while they were
   * sent: steadier than the rate on a shared machine, and for Sluice it includes whatever the
   * stack did meanwhile (the pipelines of runs already started).
   */
  cpuMsPerDelivery: number;
  /** How many answers had each status. */
  statuses: Map<number, number>;
  /** The answers' bodies, in the order they came. */
  bodies: string[];
}

/**
 * POSTs every delivery once, from `senders` concurrent senders, each sending its next delivery
 * when its last one is answered.
 */
export async function drive(
  url: string,
  deliveries: readonly SignedDelivery[],
  senders: number,
): Promise<LoadResult> {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const bodies: string[] = [];
  let next = 0;
  const sender = async () => {
    for (let i = next++; i < deliveries.length; i = next++) {
      const delivery = deliveries[i] as SignedDelivery;
      const t0 = performance.now();
      const res = await fetch(url, {
        method: "POST",
        headers: delivery.headers,
        body: delivery.body,
      });
      bodies.push(await res.text());
      latencies.push(performance.now() - t0);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  };
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: senders }, sender));
  const cpu = process.cpuUsage(cpu0);
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    deliveries: deliveries.length,
    perSecond: deliveries.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    cpuMsPerDelivery: (cpu.user + cpu.system) / 1000 / deliveries.length,
    statuses,
    bodies,
  };
}

/**
 * The least a webhook endpoint can do: read the body and check its HMAC-SHA256 signature in
 * constant time. What Sluice's intake is measured against.
 */
export async function startBareVerifier(
  secret: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const expected = Buffer.from(
        `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
      );
      const given = Buffer.from(String(req.headers["x-hub-signature-256"] ?? ""));
      const valid = given.length === expected.length && timingSafeEqual(given, expected);
      res.writeHead(valid ? 202 : 401, { "content-type": "application/json" });
      res.end(valid ? '{"accepted":true}' : '{"message":"signature does not match"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/github`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
