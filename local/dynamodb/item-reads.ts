import type { WireAnswer } from "./dynalite-backend";
import { type Input, targetOf, type WritePath } from "./item-writes";

/**
 * Reads never see a transaction half-applied: GetItem and BatchGetItem wait for one holding
 * their items, Query and Scan for the transactions in flight when they arrive (they may see
 * plain writes made meanwhile, as DynamoDB's read-committed Query and Scan may).
 */
export class ItemReads {
  constructor(private readonly path: WritePath) {}

  async query(raw: string): Promise<WireAnswer> {
    await this.afterTransactionsInFlight();
    return this.path.backend.send("Query", raw);
  }

  async scan(raw: string): Promise<WireAnswer> {
    await this.afterTransactionsInFlight();
    return this.path.backend.send("Scan", raw);
  }

  private async afterTransactionsInFlight(): Promise<void> {
    const inFlight = this.path.transactionsInFlight;
    if (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  }

  async getItem(raw: string, input: Input): Promise<WireAnswer> {
    if (this.path.locks.held === 0) return this.path.backend.send("GetItem", raw);
    const target = await targetOf(this.path.catalog, input.TableName, input.Key);
    if (!target || !this.path.locks.isLocked(target.lock)) {
      return this.path.backend.send("GetItem", raw);
    }
    return this.path.locks.hold([target.lock], () => this.path.backend.send("GetItem", raw));
  }

  async batchGetItem(raw: string, input: Input): Promise<WireAnswer> {
    if (this.path.locks.held === 0) return this.path.backend.send("BatchGetItem", raw);
    const locked: string[] = [];
    for (const [table, request] of Object.entries((input.RequestItems ?? {}) as Input)) {
      for (const key of ((request as { Keys?: unknown[] })?.Keys ?? []) as unknown[]) {
        const target = await targetOf(this.path.catalog, table, key);
        if (target && this.path.locks.isLocked(target.lock)) locked.push(target.lock);
      }
    }
    if (locked.length === 0) return this.path.backend.send("BatchGetItem", raw);
    return this.path.locks.hold(locked, () => this.path.backend.send("BatchGetItem", raw));
  }
}
