/**
 * Exclusive locks on item keys. A write holds its item's key while it reads the old image,
 * applies and records the change; a transaction holds every key it touches. Keys are taken in
 * sorted order, so two holders of overlapping sets cannot wait on each other.
 */
export class KeyLocks {
  private readonly tails = new Map<string, Promise<void>>();

  get held(): number {
    return this.tails.size;
  }

  isLocked(key: string): boolean {
    return this.tails.has(key);
  }

  async acquire(keys: Iterable<string>): Promise<() => void> {
    const releases: (() => void)[] = [];
    for (const key of [...new Set(keys)].sort()) releases.push(await this.acquireOne(key));
    return () => {
      for (const release of releases) release();
    };
  }

  async hold<T>(keys: Iterable<string>, work: () => Promise<T>): Promise<T> {
    const release = await this.acquire(keys);
    try {
      return await work();
    } finally {
      release();
    }
  }

  private async acquireOne(key: string): Promise<() => void> {
    const previous = this.tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous ? previous.then(() => mine) : mine;
    this.tails.set(key, tail);
    if (previous) await previous;
    return () => {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }
}
