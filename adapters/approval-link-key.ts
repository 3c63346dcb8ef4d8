import { randomBytes } from "node:crypto";
import {
  GetParameterCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
  type SSMClient,
} from "@aws-sdk/client-ssm";
import type { ApprovalLinkKey } from "../domain/ports";
import { ssm } from "./clients/ssm";
import { stackConfig } from "./config";

/**
 * The key that signs approval links, an SSM SecureString `<prefix>/approval-link-key` (32
 * random bytes, base64). The first caller that finds none makes it; two making it at once
 * both end up with the one SSM kept. Read once per container.
 */
export class SsmApprovalLinkKey implements ApprovalLinkKey {
  private cached: Promise<Uint8Array> | undefined;

  constructor(
    private readonly ssm: SSMClient,
    private readonly prefix: string,
  ) {}

  key(): Promise<Uint8Array> {
    this.cached ??= this.load().catch((err: unknown) => {
      this.cached = undefined;
      throw err;
    });
    return this.cached;
  }

  private async load(): Promise<Uint8Array> {
    const stored = await this.read();
    if (stored) return stored;
    try {
      await this.ssm.send(
        new PutParameterCommand({
          Name: this.name(),
          Value: randomBytes(32).toString("base64"),
          Type: "SecureString",
          Overwrite: false,
          Description: "Sluice: signs approval links",
        }),
      );
    } catch (err) {
      if (!(err instanceof ParameterAlreadyExists)) throw err;
    }
    const made = await this.read();
    if (!made) throw new Error(`SSM parameter ${this.name()} is missing right after it was made`);
    return made;
  }

  private async read(): Promise<Uint8Array | undefined> {
    try {
      const { Parameter } = await this.ssm.send(
        new GetParameterCommand({ Name: this.name(), WithDecryption: true }),
      );
      return Parameter?.Value ? Buffer.from(Parameter.Value, "base64") : undefined;
    } catch (err) {
      if (err instanceof ParameterNotFound) return undefined;
      throw err;
    }
  }

  private name(): string {
    return `${this.prefix}/approval-link-key`;
  }
}

let shared: SsmApprovalLinkKey | undefined;

/** The stack's link key, over the container's client, read once per container. */
export function approvalLinkKey(): SsmApprovalLinkKey {
  shared ??= new SsmApprovalLinkKey(ssm(), stackConfig().secretsPrefix);
  return shared;
}
