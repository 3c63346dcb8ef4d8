import { GetParameterCommand, ParameterNotFound, type SSMClient } from "@aws-sdk/client-ssm";
import { systemClock } from "../domain/ports";
import { ssm } from "./clients/ssm";
import { stackConfig } from "./config";
import { slackParameterNames } from "./slack-parameters";
import { INTAKE_CACHE_MS, TtlCache } from "./ttl-cache";

/**
 * The Slack app's incoming webhook URL and signing secret, read from SSM and kept for a short
 * while in the container. Either may be missing: Slack is then not set up, which is no error.
 */
export class SlackSettings {
  private readonly names: ReturnType<typeof slackParameterNames>;

  constructor(
    private readonly ssm: SSMClient,
    secretsPrefix: string,
    private readonly cache?: TtlCache<string>,
  ) {
    this.names = slackParameterNames(secretsPrefix);
  }

  webhookUrl(): Promise<string | undefined> {
    return this.read(this.names.webhookUrl);
  }

  /** `fresh` reads SSM anew: before refusing a signature, so a rotated secret works at once. */
  signingSecret(options?: { fresh?: boolean }): Promise<string | undefined> {
    return this.read(this.names.signingSecret, options?.fresh);
  }

  private read(name: string, fresh = false): Promise<string | undefined> {
    if (!this.cache) return this.get(name);
    return fresh
      ? this.cache.refresh(name, () => this.get(name))
      : this.cache.get(name, () => this.get(name));
  }

  private async get(name: string): Promise<string | undefined> {
    try {
      const { Parameter } = await this.ssm.send(
        new GetParameterCommand({ Name: name, WithDecryption: true }),
      );
      return Parameter?.Value || undefined;
    } catch (err) {
      if (err instanceof ParameterNotFound) return undefined;
      throw err;
    }
  }
}

let settings: SlackSettings | undefined;

/** The stack's Slack settings, over the container's SSM client, with the container's cache. */
export function slackSettings(): SlackSettings {
  settings ??= new SlackSettings(
    ssm(),
    stackConfig().secretsPrefix,
    new TtlCache(INTAKE_CACHE_MS, systemClock),
  );
  return settings;
}
