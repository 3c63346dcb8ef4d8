import { logger } from "../../http/logger";
import type { DynaliteBackend } from "./dynalite-backend";
import type { ExpiryIndex } from "./expiry-index";
import type { ItemWrites } from "./item-writes";
import { type Item, pick } from "./items";
import { TableCatalog as Catalog, type TableCatalog } from "./tables";

const DELETES_AT_ONCE = 16;

/**
 * DynamoDB's time to live: items whose TTL attribute (epoch seconds) is past are deleted in the
 * background, each delete a REMOVE on the stream by DynamoDB's service principal. Items past
 * their time but not swept yet are still returned, as in AWS. Which items are due comes from
 * the expiry index, filled by one scan per table at start and by every write after.
 */
export class ExpirySweeper {
  private readonly scans = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<number> | undefined;

  constructor(
    private readonly backend: DynaliteBackend,
    private readonly catalog: TableCatalog,
    private readonly index: ExpiryIndex,
    private readonly writes: ItemWrites,
  ) {}

  /** Indexes a table's items from a scan, once per table whose time to live is enabled. */
  indexTable(table: string, attribute: string): void {
    if (this.scans.has(table)) return;
    this.scans.set(table, this.scan(table, attribute));
  }

  forgetTable(table: string): void {
    this.scans.delete(table);
    this.index.forgetTable(table);
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.sweep().catch((error: unknown) => logger.warn("time-to-live sweep failed", { error }));
    }, intervalMs);
    this.timer.unref();
  }

  /** One sweep now; resolves with the number of items deleted. */
  sweep(now = Date.now()): Promise<number> {
    this.sweeping ??= this.sweepOnce(Math.floor(now / 1000)).finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
    await Promise.allSettled(this.scans.values());
  }

  private async sweepOnce(nowSeconds: number): Promise<number> {
    await Promise.all(this.scans.values());
    const due = this.index.takeDue(nowSeconds);
    let deleted = 0;
    for (let i = 0; i < due.length; i += DELETES_AT_ONCE) {
      const results = await Promise.all(
        due.slice(i, i + DELETES_AT_ONCE).map(async (item) => {
          const attribute = this.catalog.ttlAttribute(item.table);
          const schema = await this.catalog.keySchema(item.table);
          const lock = schema && Catalog.lockName(item.table, schema, item.key);
          if (!attribute || !lock) return false;
          return this.writes.expire(
            { table: item.table, key: item.key, lock },
            attribute,
            nowSeconds,
          );
        }),
      );
      deleted += results.filter(Boolean).length;
    }
    return deleted;
  }

  private async scan(table: string, attribute: string): Promise<void> {
    const schema = await this.catalog.keySchema(table);
    if (!schema) return;
    const names = [...schema.names, attribute];
    const placeholders = Object.fromEntries(names.map((name, i) => [`#a${i}`, name]));
    let start: Item | undefined;
    do {
      const page: { Items?: Item[]; LastEvaluatedKey?: Item } = await this.backend.call("Scan", {
        TableName: table,
        ProjectionExpression: Object.keys(placeholders).join(", "),
        FilterExpression: `attribute_exists(#a${names.length - 1})`,
        ExpressionAttributeNames: placeholders,
        ...(start ? { ExclusiveStartKey: start } : {}),
      });
      for (const item of page.Items ?? []) {
        const lock = Catalog.lockName(table, schema, item);
        if (lock) this.index.noteIfAbsent(lock, table, pick(item, schema.names), item, attribute);
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }
}
