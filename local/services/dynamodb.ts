import { mkdir } from "node:fs/promises";
import path from "node:path";
import {
  CreateTableCommand,
  DynamoDBClient,
  ResourceInUseException,
} from "@aws-sdk/client-dynamodb";
import dynalite from "dynalite";
import { close, listen } from "../aws-json-server";
import type { LocalService } from "../local-service";

/** DynamoDB: dynalite, its LevelDB under the state folder, with the table of serverless.yml. */
export const dynamodbService: LocalService<"dynamodb", undefined> = {
  name: "dynamodb",
  title: "DynamoDB",
  endpointVariable: "AWS_ENDPOINT_URL_DYNAMODB",
  portVariable: "SLUICE_DYNAMODB_PORT",
  defaultPort: 8000,
  async start({ stateDir, region, credentials, config, resources }, port) {
    const dir = path.join(stateDir, "dynamodb");
    await mkdir(dir, { recursive: true });
    const server = dynalite({ path: dir, createTableMs: 0 });
    const listening = await listen(server, port);
    try {
      await createTable(
        config.resources.get("SluiceTable")?.Properties,
        resources.table,
        new DynamoDBClient({
          endpoint: `http://127.0.0.1:${listening}`,
          region,
          credentials,
        }),
      );
    } catch (err) {
      await close(server);
      throw err;
    }
    return {
      port: listening,
      handle: undefined,
      env: { SLUICE_TABLE: resources.table },
      summary: `table ${resources.table}`,
      stop: () => close(server),
    };
  },
};

/** Creates the table from its CloudFormation properties in serverless.yml, once. */
async function createTable(
  properties: unknown,
  tableName: string,
  client: DynamoDBClient,
): Promise<void> {
  if (!properties || typeof properties !== "object") {
    throw new Error("serverless.yml has no SluiceTable resource to create locally");
  }
  const { AttributeDefinitions, KeySchema, GlobalSecondaryIndexes, BillingMode } =
    properties as Record<string, never>;
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions,
        KeySchema,
        GlobalSecondaryIndexes,
        BillingMode,
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  } finally {
    client.destroy();
  }
}
