import type { Item } from "./items";

export interface ExpiringItem {
  table: string;
  key: Item;
  /** Epoch seconds, from the item's time-to-live attribute. */
  expiresAt: number;
}

/** DynamoDB leaves alone items whose time to live is more than five years past. */
const IGNORED_AFTER_SECONDS = 5 * 365 * 24 * 60 * 60;

/**
 * When each item of a table with time to live enabled expires, kept from the writes the front
 * sees (and from one scan when it starts), so a sweep looks only at items already due instead
 * of scanning the table. A min-heap by expiry; entries an item's later write made stale are
 * skipped when they surface.
 */
export class ExpiryIndex {
  private readonly current = new Map<string, ExpiringItem>();
  private readonly heap: { expiresAt: number; lock: string }[] = [];

  get size(): number {
    return this.current.size;
  }

  /** Notes the item's image after a write; no image (a delete) or no number forgets it. */
  note(lock: string, table: string, key: Item, image: Item | undefined, attribute: string): void {
    const expiresAt = Number(image?.[attribute]?.N);
    if (!image || !Number.isFinite(expiresAt)) {
      this.current.delete(lock);
      return;
    }
    const existing = this.current.get(lock);
    if (existing?.expiresAt === expiresAt) return;
    this.current.set(lock, { table, key, expiresAt });
    this.push({ expiresAt, lock });
  }

  /** As note, for what a start-up scan read: a write seen since the scan began knows better. */
  noteIfAbsent(lock: string, table: string, key: Item, image: Item, attribute: string): void {
    if (!this.current.has(lock)) this.note(lock, table, key, image, attribute);
  }

  forgetTable(table: string): void {
    for (const [lock, item] of this.current) if (item.table === table) this.current.delete(lock);
  }

  /** Takes out the items whose time to live is before `nowSeconds`. */
  takeDue(nowSeconds: number): ExpiringItem[] {
    const due: ExpiringItem[] = [];
    for (;;) {
      const top = this.heap[0];
      if (!top || top.expiresAt >= nowSeconds) return due;
      this.pop();
      const item = this.current.get(top.lock);
      if (item?.expiresAt !== top.expiresAt) continue;
      this.current.delete(top.lock);
      if (item.expiresAt >= nowSeconds - IGNORED_AFTER_SECONDS) due.push(item);
    }
  }

  private push(entry: { expiresAt: number; lock: string }): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as typeof entry).expiresAt <= entry.expiresAt) break;
      heap[i] = heap[parent] as typeof entry;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (!last || heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child =
        right < heap.length &&
        (heap[right] as typeof last).expiresAt < (heap[left] as typeof last).expiresAt
          ? right
          : left;
      if ((heap[child] as typeof last).expiresAt >= last.expiresAt) break;
      heap[i] = heap[child] as typeof last;
      i = child;
    }
    heap[i] = last;
  }
}
