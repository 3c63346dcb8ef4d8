import {
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
  type SSMClient,
} from "@aws-sdk/client-ssm";
import type { WebhookSecretRepository } from "../domain/ports";
import { ssm } from "./clients/ssm";
import { stackConfig } from "./config";

/**
 * Webhook secrets as SSM SecureString parameters, `<prefix>/apps/<app>/webhook-secret`,
 * encrypted with the account's `aws/ssm` key. Nothing is cached, so a rotated secret takes
 * effect on the next delivery in every Lambda container.
 */
export class SecretStore implements WebhookSecretRepository {
  constructor(
    private readonly ssm: SSMClient,
    private readonly prefix: string,
  ) {}

  async get(app: string): Promise<string | undefined> {
    try {
      const { Parameter } = await this.ssm.send(
        new GetParameterCommand({ Name: this.nameOf(app), WithDecryption: true }),
      );
      return Parameter?.Value;
    } catch (err) {
      if (err instanceof ParameterNotFound) return undefined;
      throw err;
    }
  }

  async put(app: string, secret: string): Promise<void> {
    await this.ssm.send(
      new PutParameterCommand({
        Name: this.nameOf(app),
        Value: secret,
        Type: "SecureString",
        Overwrite: true,
        Description: `Sluice webhook secret of app ${app}`,
      }),
    );
  }

  private nameOf(app: string): string {
    return `${this.prefix}/apps/${app}/webhook-secret`;
  }
}

/** The stack's webhook secrets, over the container's client. */
export function secretStore(): SecretStore {
  return new SecretStore(ssm(), stackConfig().secretsPrefix);
}
