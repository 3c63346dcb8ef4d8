import type { Clock } from "../domain/ports";

/**
 * Values kept for a short time in a warm container, so that deliveries in a row read the
 * stored value once. What changes in the store shows here within `ttlMs`.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();
  /** Loads under way for `get`: a burst of deliveries that finds the value gone reads it once. */
  private readonly loading = new Map<string, Promise<V | undefined>>();
  /** Each key's latest load: an older one that ends later does not replace what it read. */
  private readonly latest = new Map<string, number>();
  private loads = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly clock: Clock,
  ) {}

  /** The cached value, else what `load` gives (cached when it is not undefined). */
  async get(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const entry = this.entries.get(key);
    if (entry && entry.until > this.clock.now().getTime()) return entry.value;
    const pending = this.loading.get(key);
    if (pending) return pending;
    const loaded: Promise<V | undefined> = this.load(key, load).finally(() => {
      if (this.loading.get(key) === loaded) this.loading.delete(key);
    });
    this.loading.set(key, loaded);
    return loaded;
  }

  /**
   * What `load` gives now, replacing the cached value. Never shares a load under way: a caller
   * that asks anew (a secret rotated since it was cached) gets what the store holds now.
   */
  async refresh(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    this.loading.delete(key);
    return this.load(key, load);
  }

  set(key: string, value: V): void {
    this.entries.set(key, { value, until: this.clock.now().getTime() + this.ttlMs });
  }

  private async load(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const id = ++this.loads;
    this.latest.set(key, id);
    const value = await load();
    if (this.latest.get(key) === id) {
      if (value === undefined) this.entries.delete(key);
      else this.set(key, value);
    }
    return value;
  }
}

/** How long the intake keeps an app's definition and webhook secret in a warm container. */
export const INTAKE_CACHE_MS = 30_000;
