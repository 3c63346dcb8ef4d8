import { type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { type App, AppSchema } from "../domain/app";
import { dynamoDocument } from "./clients/dynamodb";
import { stackConfig } from "./config";

/** Registered apps and their pipeline definitions, in the single Sluice table. */
export class AppStore {
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
      new PutCommand({ TableName: this.table, Item: { pk: `APP#${app.name}`, sk: "APP", ...app } }),
    );
  }
}

/** The stack's apps' store, over the container's client. */
export function appStore(): AppStore {
  return new AppStore(dynamoDocument(), stackConfig().table);
}
