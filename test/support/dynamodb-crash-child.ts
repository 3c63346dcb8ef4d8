/**
 * A process that writes to a local DynamoDB, then starts a transaction and stops half-way
 * through it, to be killed there with SIGKILL by the test that spawned it. Prints "committed"
 * after its plain writes and "half-applied" once the transaction's first item is in the table.
 * Arguments: the DynamoDB state folder.
 */
import { ScanCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { createSluiceLikeTable, startTestDynamoDb, TABLE } from "./local-dynamodb";

const dir = process.argv[2];
if (!dir) throw new Error("usage: dynamodb-crash-child <dir>");

let reportHalfApplied: (() => Promise<void>) | undefined;
const db = await startTestDynamoDb({
  dir,
  beforeTransactionItem: async (index) => {
    if (index === 1) await reportHalfApplied?.();
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
process.stdout.write("committed\n");

reportHalfApplied = async () => {
  // Scan does not wait on the transaction's locks: it sees the first item applied.
  for (;;) {
    const { Items = [] } = await db.doc.send(new ScanCommand({ TableName: TABLE }));
    if (Items.some((item) => item.pk === "a" && item.n === 1)) break;
  }
  process.stdout.write("half-applied\n");
  await new Promise(() => undefined);
};
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
