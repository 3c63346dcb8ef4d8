import { type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { DeploymentWait, DeploymentWaits } from "../domain/ports";
import { dynamoDocument } from "./clients/dynamodb";
import { stackConfig } from "./config";

/** Weeks after its deployment, a wait's item may go (the table's TTL removes it). */
const RETENTION_SECONDS = 30 * 24 * 3600;

/**
 * Which run step waits on each CodeDeploy deployment, with the task token that resumes it,
 * keyed by deployment id: CodeDeploy's state-change events name only the deployment.
 */
export class DynamoDeploymentWaits implements DeploymentWaits {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async put(wait: DeploymentWait): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: waitItem(wait) }));
  }

  async get(deploymentId: string): Promise<DeploymentWait | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: `DEPLOYMENT#${deploymentId}`, sk: "WAIT" },
        ConsistentRead: true,
      }),
    );
    if (!Item) return undefined;
    return {
      deploymentId,
      runId: String(Item.runId),
      index: Number(Item.index),
      attempt: Number(Item.attempt),
      token: String(Item.token),
    };
  }
}

/** A wait's item, as put alone or in a run's transaction (RunTransition.waits). */
export function waitItem(wait: DeploymentWait) {
  return {
    pk: `DEPLOYMENT#${wait.deploymentId}`,
    sk: "WAIT",
    ...wait,
    expiresAt: Math.floor(Date.now() / 1000) + RETENTION_SECONDS,
  };
}

export function deploymentWaits(): DynamoDeploymentWaits {
  return new DynamoDeploymentWaits(dynamoDocument(), stackConfig().table);
}
