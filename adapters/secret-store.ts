import {
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
  type SSMClient,
} from "@aws-sdk/client-ssm";
import { systemClock, type WebhookSecretRepository } from "../domain/ports";
import { ssm } from "./clients/ssm";
import { stackConfig } from "./config";
import { INTAKE_CACHE_MS, TtlCache } from "./ttl-cache";

/**
 * Webhook secrets as SSM SecureString parameters, `<prefix>/apps/<app>/webhook-secret`,
 * encrypted with the account's `aws/ssm` key. A secret read is kept for a short while in the
 * container (`cache`), so deliveries in a row read SSM once; `fresh` reads it anew, which the
 * intake does before refusing a signature, so a rotation to a new secret works at once.
 */
export class SecretStore implements WebhookSecretRepository {
  constructor(
    private readonly ssm: SSMClient,
    private readonly prefix: string,
    private readonly cache?: TtlCache<string>,
  ) {}

  async get(app: string, options?: { fresh?: boolean }): Promise<string | undefined> {
    if (!this.cache) return this.read(app);
    return options?.fresh
      ? this.cache.refresh(app, () => this.read(app))
      : this.cache.get(app, () => this.read(app));
  }

  private async read(app: string): Promise<string | undefined> {
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

  async put(app: string, secret: string, set?: { by: string; at: string }): Promise<void> {
    await this.ssm.send(
      new PutParameterCommand({
        Name: this.nameOf(app),
        Value: secret,
        Type: "SecureString",
        Overwrite: true,
        // Who set it, where an operator reads the parameter's history (SSM keeps descriptions
        // per version): the value itself says nothing.
        Description:
          `Sluice webhook secret of app ${app}${set ? `, set by ${set.by} at ${set.at}` : ""}`.slice(
            0,
            1024,
          ),
      }),
    );
    this.cache?.set(app, secret);
  }

  private nameOf(app: string): string {
    return `${this.prefix}/apps/${app}/webhook-secret`;
  }
}

let store: SecretStore | undefined;

/** The stack's webhook secrets, over the container's client, with the container's cache. */
export function secretStore(): SecretStore {
  store ??= new SecretStore(
    ssm(),
    stackConfig().secretsPrefix,
    new TtlCache(INTAKE_CACHE_MS, systemClock),
  );
  return store;
}
