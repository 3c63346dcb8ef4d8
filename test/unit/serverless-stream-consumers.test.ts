import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadServerlessConfig } from "../../local/serverless-config";

let root: string | undefined;
afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
  root = undefined;
});

async function configWith(
  events: string,
): Promise<Awaited<ReturnType<typeof loadServerlessConfig>>> {
  root = await mkdtemp(path.join(tmpdir(), "sluice-config-"));
  await writeFile(
    path.join(root, "serverless.yml"),
    `service: demo
custom: { tableName: "demo-\${sls:stage}" }
provider: { name: aws }
functions:
  publish:
    handler: functions/publish.handler
    events:
${events}
stepFunctions: { stateMachines: {} }
resources:
  Resources:
    Table:
      Type: AWS::DynamoDB::Table
      Properties: { TableName: "\${self:custom.tableName}" }
`,
  );
  return loadServerlessConfig(root, "local");
}

describe("stream events of serverless.yml", () => {
  it("become consumers of the named table's stream, with osls's defaults", async () => {
    // Act
    const config = await configWith(`      - stream:
          type: dynamodb
          arn: { Fn::GetAtt: [Table, StreamArn] }
      - stream:
          type: dynamodb
          arn: { Fn::GetAtt: [Table, StreamArn] }
          batchSize: 50
          startingPosition: LATEST
          maximumRetryAttempts: 3
          functionResponseType: ReportBatchItemFailures
          filterPatterns: [{ eventName: [INSERT] }]
      - stream:
          type: dynamodb
          arn: { Fn::GetAtt: [Table, StreamArn] }
          enabled: false`);

    // Assess
    expect(config.streamConsumers).toEqual([
      {
        id: "publish",
        functionName: "publish",
        tableName: "demo-local",
        batchSize: 10,
        startingPosition: "TRIM_HORIZON",
        reportBatchItemFailures: false,
      },
      {
        id: "publish-2",
        functionName: "publish",
        tableName: "demo-local",
        batchSize: 50,
        startingPosition: "LATEST",
        maximumRetryAttempts: 3,
        reportBatchItemFailures: true,
        filterPatterns: [{ eventName: ["INSERT"] }],
      },
    ]);
  });

  it("refuses a stream event the local stack cannot serve", async () => {
    // Act
    const loading = configWith(`      - stream:
          type: kinesis
          arn: arn:aws:kinesis:us-east-1:000000000000:stream/demo`);

    // Assess
    await expect(loading).rejects.toThrow();
  });
});
