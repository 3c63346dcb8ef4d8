import type { ExpiryIndex } from "./expiry-index";
import { type Item, itemSize, sameItem } from "./items";
import type { NewStreamRecord, StreamLog } from "./stream-log";
import type { TableCatalog } from "./tables";

/** One item's images around a write that succeeded. */
export interface Change {
  table: string;
  /** The item's key lock name, which the expiry index also goes by. */
  lock: string;
  key: Item;
  old: Item | undefined;
  new: Item | undefined;
  byService?: true;
}

/**
 * Turns the writes that changed an item into stream records, as DynamoDB Streams does (a write
 * that left the item as it was leaves none), and keeps the expiry index up to date. Called with
 * the items' locks still held, so records of one item are in the order of its writes.
 */
export class ChangeRecorder {
  constructor(
    private readonly catalog: TableCatalog,
    private readonly log: StreamLog,
    private readonly expiry: ExpiryIndex,
  ) {}

  record(changes: readonly Change[], write?: string): void {
    const records: NewStreamRecord[] = [];
    const time = Date.now();
    for (const change of changes) {
      if (sameItem(change.old, change.new)) continue;
      const ttl = this.catalog.ttlAttribute(change.table);
      if (ttl) this.expiry.note(change.lock, change.table, change.key, change.new, ttl);
      const stream = this.catalog.stream(change.table);
      if (!stream) continue;
      const withNew = stream.viewType === "NEW_IMAGE" || stream.viewType === "NEW_AND_OLD_IMAGES";
      const withOld = stream.viewType === "OLD_IMAGE" || stream.viewType === "NEW_AND_OLD_IMAGES";
      const newImage = withNew ? change.new : undefined;
      const oldImage = withOld ? change.old : undefined;
      records.push({
        table: change.table,
        streamArn: stream.arn,
        eventName: !change.old ? "INSERT" : !change.new ? "REMOVE" : "MODIFY",
        time,
        viewType: stream.viewType,
        keys: change.key,
        ...(newImage ? { newImage } : {}),
        ...(oldImage ? { oldImage } : {}),
        sizeBytes: itemSize(change.key) + itemSize(newImage) + itemSize(oldImage),
        ...(change.byService ? { byService: true as const } : {}),
      });
    }
    this.log.append(records, write);
  }
}
