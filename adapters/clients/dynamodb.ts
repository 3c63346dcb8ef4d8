import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { KEEP_ALIVE } from "./http";

let document: DynamoDBDocumentClient | undefined;

/** The DynamoDB document client, built on first use and kept for the container's life. */
export function dynamoDocument(): DynamoDBDocumentClient {
  document ??= DynamoDBDocumentClient.from(new DynamoDBClient(KEEP_ALIVE), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return document;
}
