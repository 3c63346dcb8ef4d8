import {
  type CodeDeployClient,
  DeploymentGroupDoesNotExistException,
  GetDeploymentCommand,
  GetDeploymentGroupCommand,
} from "@aws-sdk/client-codedeploy";
import { parseReleaseKey } from "../domain/bundles/release-key";
import type { HostResult } from "../domain/run";
import { codeDeploy } from "./clients/codedeploy";
import { CodeDeployDeployments } from "./deployments";

export interface FleetRevision {
  bucket?: string;
  key: string;
  version?: string;
  versionId?: string;
  etag?: string;
}

export interface FleetHost {
  id: string;
  /** How the host's part of the group's last deployment ended. */
  status: string;
  /** What it runs: the bundle of the last deployment that succeeded on it, when known. */
  revision?: FleetRevision;
  deploymentId?: string;
}

export interface FleetGroup {
  application: string;
  deploymentGroup: string;
  deploymentId?: string;
  deploymentStatus?: string;
  hosts: FleetHost[];
  /** Why nothing is known of the group (it does not exist in CodeDeploy). */
  missing?: string;
}

/**
 * The revision on each host of a deployment group, as CodeDeploy knows it: the hosts of the
 * group's last deployment; one whose part did not succeed runs what the group's last successful
 * deployment gave it, if that reached it.
 */
export class CodeDeployFleet {
  private readonly deployments: CodeDeployDeployments;

  constructor(private readonly client: CodeDeployClient) {
    this.deployments = new CodeDeployDeployments(client);
  }

  async group(application: string, deploymentGroup: string): Promise<FleetGroup> {
    let info: Awaited<ReturnType<CodeDeployFleet["groupInfo"]>>;
    try {
      info = await this.groupInfo(application, deploymentGroup);
    } catch (err) {
      if (!(err instanceof DeploymentGroupDoesNotExistException)) throw err;
      return { application, deploymentGroup, hosts: [], missing: err.message };
    }
    const last = info?.lastAttemptedDeployment?.deploymentId;
    if (!last) return { application, deploymentGroup, hosts: [] };
    const good = info?.lastSuccessfulDeployment?.deploymentId;
    const hosts = await this.deployments.hosts(last);
    const lastRevision = await this.revisionOf(last);
    const fellBack = hosts.some((h) => h.status !== "Succeeded") && good && good !== last;
    const goodHosts: HostResult[] = fellBack ? await this.deployments.hosts(good) : [];
    const goodRevision = fellBack ? await this.revisionOf(good) : undefined;
    return {
      application,
      deploymentGroup,
      deploymentId: last,
      ...(info?.lastAttemptedDeployment?.status
        ? { deploymentStatus: info.lastAttemptedDeployment.status }
        : {}),
      hosts: hosts.map((host): FleetHost => {
        if (host.status === "Succeeded") {
          return { id: host.id, status: host.status, deploymentId: last, ...lastRevision };
        }
        const before = goodHosts.find((h) => h.id === host.id && h.status === "Succeeded");
        return {
          id: host.id,
          status: host.status,
          ...(before && good ? { deploymentId: good, ...goodRevision } : {}),
        };
      }),
    };
  }

  private async groupInfo(application: string, deploymentGroup: string) {
    const { deploymentGroupInfo } = await this.client.send(
      new GetDeploymentGroupCommand({
        applicationName: application,
        deploymentGroupName: deploymentGroup,
      }),
    );
    return deploymentGroupInfo;
  }

  private async revisionOf(deploymentId: string): Promise<{ revision?: FleetRevision }> {
    const { deploymentInfo } = await this.client.send(new GetDeploymentCommand({ deploymentId }));
    const s3 = deploymentInfo?.revision?.s3Location;
    if (!s3?.key) return {};
    const version = parseReleaseKey(s3.key)?.version;
    return {
      revision: {
        ...(s3.bucket ? { bucket: s3.bucket } : {}),
        key: s3.key,
        ...(version ? { version } : {}),
        ...(s3.version ? { versionId: s3.version } : {}),
        ...(s3.eTag ? { etag: s3.eTag } : {}),
      },
    };
  }
}

export function fleet(): CodeDeployFleet {
  return new CodeDeployFleet(codeDeploy());
}
