import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import { type App, AppSchema } from "../domain/app";
import { type AppRepository, systemClock } from "../domain/ports";
import { dynamoDocument } from "./clients/dynamodb";
import { stackConfig } from "./config";
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

  async put(app: App): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        // Every app is also under one key of the byApp index, so that they can be listed.
        Item: { pk: `APP#${app.name}`, sk: "APP", gsi1pk: APPS, gsi1sk: app.name, ...app },
      }),
    );
  }

  /** Every registered app, by name, read page by page. */
  async list(): Promise<App[]> {
    const apps: App[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: "byApp",
          KeyConditionExpression: "gsi1pk = :apps",
          ExpressionAttributeValues: { ":apps": APPS },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      apps.push(...(page.Items ?? []).map((i) => AppSchema.parse(i)));
      start = page.LastEvaluatedKey;
    } while (start);
    return apps;
  }
}

const APPS = "APPS";

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
