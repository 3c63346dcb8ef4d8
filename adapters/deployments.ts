import {
  BatchGetDeploymentTargetsCommand,
  type CodeDeployClient,
  CreateDeploymentCommand,
  DeploymentAlreadyCompletedException,
  GetDeploymentCommand,
  ListDeploymentTargetsCommand,
  StopDeploymentCommand,
} from "@aws-sdk/client-codedeploy";
import type { DeploymentRequest, DeploymentState, Deployments } from "../domain/ports";
import type { HostResult } from "../domain/run";
import { codeDeploy } from "./clients/codedeploy";

/** Deployments of release bundles through CodeDeploy. */
export class CodeDeployDeployments implements Deployments {
  constructor(private readonly client: CodeDeployClient) {}

  async create(request: DeploymentRequest): Promise<string> {
    const { revision } = request;
    const { deploymentId } = await this.client.send(
      new CreateDeploymentCommand({
        applicationName: request.application,
        deploymentGroupName: request.deploymentGroup,
        deploymentConfigName: request.deploymentConfig,
        description: request.description,
        revision: {
          revisionType: "S3",
          s3Location: {
            bucket: revision.bucket,
            key: revision.key,
            bundleType: revision.key.endsWith(".zip") ? "zip" : "tgz",
            ...(revision.versionId ? { version: revision.versionId } : {}),
            ...(revision.etag ? { eTag: revision.etag.replaceAll('"', "") } : {}),
          },
        },
      }),
    );
    if (!deploymentId) throw new Error("CreateDeployment answered no deploymentId");
    return deploymentId;
  }

  async stop(deploymentId: string): Promise<void> {
    try {
      await this.client.send(new StopDeploymentCommand({ deploymentId }));
    } catch (err) {
      // A deployment that has ended already cannot be stopped, and need not be.
      if (!(err instanceof DeploymentAlreadyCompletedException)) throw err;
    }
  }

  async state(deploymentId: string): Promise<DeploymentState> {
    const { deploymentInfo: info } = await this.client.send(
      new GetDeploymentCommand({ deploymentId }),
    );
    return {
      deploymentId,
      deploymentGroup: info?.deploymentGroupName ?? "",
      status: info?.status ?? "Unknown",
      ...(info?.errorInformation?.message ? { error: info.errorInformation.message } : {}),
    };
  }

  async hosts(deploymentId: string): Promise<HostResult[]> {
    const ids: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListDeploymentTargetsCommand({ deploymentId, ...(nextToken ? { nextToken } : {}) }),
      );
      ids.push(...(page.targetIds ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    const hosts: HostResult[] = [];
    // BatchGetDeploymentTargets takes 25 targets a call.
    for (let i = 0; i < ids.length; i += 25) {
      const { deploymentTargets = [] } = await this.client.send(
        new BatchGetDeploymentTargetsCommand({ deploymentId, targetIds: ids.slice(i, i + 25) }),
      );
      for (const target of deploymentTargets) {
        const instance = target.instanceTarget;
        if (!instance?.targetId) continue;
        const failed = instance.lifecycleEvents?.find((e) => e.status === "Failed");
        hosts.push({
          id: instance.targetId,
          status: instance.status ?? "Unknown",
          ...(failed
            ? {
                failure: `${failed.lifecycleEventName}: ${failed.diagnostics?.message ?? failed.diagnostics?.errorCode ?? "failed"}`,
              }
            : {}),
        });
      }
    }
    return hosts.sort((a, b) => a.id.localeCompare(b.id));
  }
}

export function deployments(): CodeDeployDeployments {
  return new CodeDeployDeployments(codeDeploy());
}
