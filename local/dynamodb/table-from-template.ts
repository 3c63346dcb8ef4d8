import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ResourceInUseException,
  type StreamViewType,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { z } from "zod";
import { logger } from "../../http/logger";

const TablePropertiesSchema = z
  .object({
    AttributeDefinitions: z.array(
      z.object({ AttributeName: z.string(), AttributeType: z.enum(["S", "N", "B"]) }),
    ),
    KeySchema: z.array(z.object({ AttributeName: z.string(), KeyType: z.enum(["HASH", "RANGE"]) })),
    GlobalSecondaryIndexes: z.array(z.record(z.string(), z.unknown())).optional(),
    BillingMode: z.enum(["PAY_PER_REQUEST", "PROVISIONED"]).optional(),
    StreamSpecification: z
      .object({
        StreamViewType: z.enum(["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]),
      })
      .optional(),
    TimeToLiveSpecification: z
      .object({ AttributeName: z.string(), Enabled: z.boolean() })
      .optional(),
  })
  .loose();

/**
 * Creates a table from its CloudFormation properties in serverless.yml, through the SDK as
 * CloudFormation would: the table, then its time to live. A table already there (a state folder
 * from an earlier start) gets the stream and time to live the template asks for, if it lacks them.
 */
export async function createTableFromTemplate(
  tableName: string,
  properties: unknown,
  client = new DynamoDBClient({}),
): Promise<void> {
  const parsed = TablePropertiesSchema.safeParse(properties);
  if (!parsed.success) {
    throw new Error(
      `serverless.yml's table ${tableName} cannot be created locally: ${parsed.error.message}`,
    );
  }
  const table = parsed.data;
  const viewType = table.StreamSpecification?.StreamViewType as StreamViewType | undefined;
  try {
    try {
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          AttributeDefinitions: table.AttributeDefinitions,
          KeySchema: table.KeySchema,
          GlobalSecondaryIndexes: table.GlobalSecondaryIndexes as never,
          BillingMode: table.BillingMode,
          ...(viewType
            ? { StreamSpecification: { StreamEnabled: true, StreamViewType: viewType } }
            : {}),
        }),
      );
    } catch (err) {
      if (!(err instanceof ResourceInUseException)) throw err;
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      // The local DynamoDB cannot add an index to a table: a state folder from before an index
      // was added lacks it, and only the queries of that index fail. Said once, at start.
      const present = new Set((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
      const missing = (table.GlobalSecondaryIndexes ?? [])
        .map((i) => String(i.IndexName))
        .filter((name) => !present.has(name));
      if (missing.length > 0) {
        logger.warn("the state folder's table lacks indexes serverless.yml declares", {
          table: tableName,
          missing,
          fix: "start with a new state folder to have them",
        });
      }
      if (viewType && !Table?.StreamSpecification?.StreamEnabled) {
        await client.send(
          new UpdateTableCommand({
            TableName: tableName,
            StreamSpecification: { StreamEnabled: true, StreamViewType: viewType },
          }),
        );
      }
    }
    const ttl = table.TimeToLiveSpecification;
    if (ttl?.Enabled) {
      const { TimeToLiveDescription } = await client.send(
        new DescribeTimeToLiveCommand({ TableName: tableName }),
      );
      if (TimeToLiveDescription?.TimeToLiveStatus !== "ENABLED") {
        await client.send(
          new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: ttl }),
        );
      }
    }
  } finally {
    client.destroy();
  }
}
