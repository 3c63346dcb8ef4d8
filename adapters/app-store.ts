import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
} from "@aws-sdk/lib-dynamodb";
import { type App, AppSchema } from "../domain/app";
import { type AppRepository, systemClock } from "../domain/ports";
import { auditRecord } from "./audit-trail";
import { dynamoDocument } from "./clients/dynamodb";
import { stackConfig } from "./config";
import { BY_LIST_INDEX, BY_LIST_KEY, type Page, type PageRequest, queryPage } from "./page-cursor";
import { INTAKE_CACHE_MS, TtlCache } from "./ttl-cache";

/** Registered apps and their pipeline definitions, in the single Sluice table. */
export class AppStore implements AppRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(name: string): Promise<App | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: `APP#${name}`, sk: "APP" } }),
    );
    return Item ? AppSchema.parse(Item) : undefined;
  }

  /** The definition and its audit entry (who put it), in one write. */
  async put(app: App): Promise<void> {
    await this.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: this.table, Item: { ...appKeys(app.name), ...app } } },
          auditRecord(this.table, {
            app: app.name,
            type: "app-put",
            by: app.updatedBy ?? "anonymous",
            at: app.updatedAt,
          }),
        ],
      }),
    );
  }

  /** Every registered app, by name; `gsi2sk` goes on from an earlier page. */
  async list(page: PageRequest): Promise<Page<App>> {
    const found = await queryPage(
      this.doc,
      {
        TableName: this.table,
        IndexName: BY_LIST_INDEX,
        KeyConditionExpression: "gsi2pk = :apps",
        ExpressionAttributeValues: { ":apps": "APPS" },
      },
      BY_LIST_KEY,
      { gsi2pk: "APPS" },
      page,
      true,
    );
    return { ...found, items: found.items.map((i) => AppSchema.parse(i)) };
  }
}

/** The app's item; also in the byList index, where every app is listed by name. */
function appKeys(name: string) {
  return { pk: `APP#${name}`, sk: "APP", gsi2pk: "APPS", gsi2sk: name };
}

/** The stack's apps' store, over the container's client. */
export function appStore(): AppStore {
  return new AppStore(dynamoDocument(), stackConfig().table);
}

/**
 * Apps as the intake reads them: a definition read is kept for a short while in the container,
 * so deliveries in a row read the table once. A changed definition reaches new runs within the
 * cache's time; an app not found is not kept, so a newly registered one is found at once.
 */
export class CachedApps implements AppRepository {
  constructor(
    private readonly store: AppRepository,
    private readonly cache: TtlCache<App>,
  ) {}

  get(name: string): Promise<App | undefined> {
    return this.cache.get(name, () => this.store.get(name));
  }

  async put(app: App): Promise<void> {
    await this.store.put(app);
    this.cache.set(app.name, app);
  }
}

let cachedApps: CachedApps | undefined;

/** The stack's apps as the intake reads them, with the container's cache. */
export function intakeApps(): CachedApps {
  cachedApps ??= new CachedApps(appStore(), new TtlCache(INTAKE_CACHE_MS, systemClock));
  return cachedApps;
}
