import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import type {
  DeleteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";

/** Sends a conditional write: false when its condition did not hold, as when another writer won. */
export async function conditionalWrite(
  doc: DynamoDBDocumentClient,
  command: PutCommand | DeleteCommand | UpdateCommand,
): Promise<boolean> {
  try {
    // One overload per command type; the union needs one of them to pick the send signature.
    await doc.send(command as PutCommand);
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}
