import { describe, expect, it } from "vitest";
import { INTAKE_CACHE_MS, TtlCache } from "../../adapters/ttl-cache";

/** A store whose value a test changes, counting its reads. */
function store(initial: string | undefined) {
  const s = {
    value: initial,
    reads: 0,
    load: async () => {
      s.reads += 1;
      return s.value;
    },
  };
  return s;
}

describe("the intake's cache of apps and secrets", () => {
  let now = 0;
  const clock = { now: () => new Date(now) };

  it("reads the store once within its time, and shows a change once that time is past", async () => {
    now = 0;
    const secrets = store("old");
    const cache = new TtlCache<string>(INTAKE_CACHE_MS, clock);

    const first = await cache.get("shop", secrets.load);
    secrets.value = "new";
    now = INTAKE_CACHE_MS - 1;
    const within = await cache.get("shop", secrets.load);
    now = INTAKE_CACHE_MS;
    const after = await cache.get("shop", secrets.load);

    expect([first, within, after]).toEqual(["old", "old", "new"]);
    expect(secrets.reads).toBe(2);
  });

  it("keeps nothing for a key the store does not have, so it is found as soon as it is there", async () => {
    now = 0;
    const apps = store(undefined);
    const cache = new TtlCache<string>(INTAKE_CACHE_MS, clock);

    const missing = await cache.get("shop", apps.load);
    apps.value = "registered";
    const found = await cache.get("shop", apps.load);

    expect([missing, found]).toEqual([undefined, "registered"]);
  });

  it("reads the store once for a burst of callers that find nothing cached", async () => {
    now = 0;
    const secrets = store("s3cret");
    const cache = new TtlCache<string>(INTAKE_CACHE_MS, clock);

    const got = await Promise.all(
      Array.from({ length: 16 }, () => cache.get("shop", secrets.load)),
    );
    now = INTAKE_CACHE_MS;
    const later = await Promise.all([
      cache.get("shop", secrets.load),
      cache.get("shop", secrets.load),
    ]);

    expect(new Set([...got, ...later])).toEqual(new Set(["s3cret"]));
    expect(secrets.reads).toBe(2);
  });

  it("keeps what a refresh read over what a load begun before it read, and loads again after a failure", async () => {
    now = 0;
    const cache = new TtlCache<string>(INTAKE_CACHE_MS, clock);
    let answerOld: (value: string) => void = () => undefined;
    const slowOld = () => new Promise<string>((resolve) => (answerOld = resolve));

    const before = cache.get("shop", slowOld);
    const refreshed = await cache.refresh("shop", async () => "rotated");
    answerOld("old");
    const [old, cached] = [await before, await cache.get("shop", async () => "unread")];
    const failing = cache.get("web", async () => Promise.reject(new Error("throttled")));
    const sharing = cache.get("web", async () => "unread");

    expect([refreshed, old, cached]).toEqual(["rotated", "old", "rotated"]);
    await expect(failing).rejects.toThrow("throttled");
    await expect(sharing).rejects.toThrow("throttled");
    expect(await cache.get("web", async () => "found")).toBe("found");
  });

  it("reads the store anew on refresh, within its time too", async () => {
    now = 0;
    const secrets = store("old");
    const cache = new TtlCache<string>(INTAKE_CACHE_MS, clock);
    await cache.get("shop", secrets.load);
    secrets.value = "rotated";

    const refreshed = await cache.refresh("shop", secrets.load);
    const cached = await cache.get("shop", secrets.load);

    expect([refreshed, cached]).toEqual(["rotated", "rotated"]);
  });
});
