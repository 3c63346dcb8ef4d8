/**
 * A process that writes to a local DynamoDB, then starts a transaction and stops half-way
 * through it, to be killed there with SIGKILL by the test that spawned it. Prints
 * "half-applied" once the transaction's first item is in the table and its second never will
 * be. Arguments: the DynamoDB state folder.
 */
import { TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { createSluiceLikeTable, startTestDynamoDb, TABLE } from "./local-dynamodb";

const dir = process.argv[2];
if (!dir) throw new Error("usage: dynamodb-crash-child <dir>");

const never = new Promise<void>(() => undefined);
let inTransaction = false;
const db = await startTestDynamoDb({
  dir,
  transactionHooks: {
    beforeItem: async (index) => {
      if (inTransaction && index === 1) await never;
    },
    afterItem: async (index) => {
      if (!inTransaction || index !== 0) return;
      process.stdout.write("half-applied\n");
      await never;
    },
  },
});
await createSluiceLikeTable(db.client);
for (const pk of ["a", "b"]) {
  await db.doc.send(
    new UpdateCommand({
      TableName: TABLE,
      Key: { pk, sk: "counter" },
      UpdateExpression: "SET n = :zero",
      ExpressionAttributeValues: { ":zero": 0 },
    }),
  );
}

inTransaction = true;
await db.doc.send(
  new TransactWriteCommand({
    TransactItems: ["a", "b"].map((pk) => ({
      Update: {
        TableName: TABLE,
        Key: { pk, sk: "counter" },
        UpdateExpression: "SET n = n + :one",
        ExpressionAttributeValues: { ":one": 1 },
      },
    })),
  }),
);
