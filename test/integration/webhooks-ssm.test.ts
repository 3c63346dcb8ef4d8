import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  DeleteParameterCommand,
  GetParameterCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack } from "../support/local-stack";

const NAME = "/sluice/local/apps/shop/webhook-secret";

describe("the SSM stand-in, through the AWS SDK", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let ssm: SSMClient;
  beforeAll(async () => {
    stack = await startTestStack();
    ssm = new SSMClient({});
  });
  afterAll(() => stack.cleanup());

  it("stores a SecureString and gives its value back only when asked to decrypt", async () => {
    await ssm.send(new PutParameterCommand({ Name: NAME, Value: "s3cret", Type: "SecureString" }));

    const decrypted = await ssm.send(new GetParameterCommand({ Name: NAME, WithDecryption: true }));
    const encrypted = await ssm.send(new GetParameterCommand({ Name: NAME }));

    expect(decrypted.Parameter).toMatchObject({
      Name: NAME,
      Type: "SecureString",
      Value: "s3cret",
      Version: 1,
      ARN: `arn:aws:ssm:us-east-1:000000000000:parameter${NAME}`,
    });
    expect(decrypted.Parameter?.LastModifiedDate).toBeInstanceOf(Date);
    expect(encrypted.Parameter?.Value).not.toContain("s3cret");
  });

  it("refuses to replace a parameter without Overwrite, and versions it with Overwrite", async () => {
    const name = "/sluice/local/apps/cart/webhook-secret";
    await ssm.send(new PutParameterCommand({ Name: name, Value: "one", Type: "SecureString" }));

    const refused = ssm.send(
      new PutParameterCommand({ Name: name, Value: "two", Type: "SecureString" }),
    );
    await expect(refused).rejects.toBeInstanceOf(ParameterAlreadyExists);
    const replaced = await ssm.send(
      new PutParameterCommand({ Name: name, Value: "two", Type: "SecureString", Overwrite: true }),
    );

    expect(replaced.Version).toBe(2);
    const { Parameter } = await ssm.send(
      new GetParameterCommand({ Name: name, WithDecryption: true }),
    );
    expect(Parameter?.Value).toBe("two");
  });

  it("deletes a parameter, then reports it not found", async () => {
    const name = "/sluice/local/apps/gone/webhook-secret";
    await ssm.send(new PutParameterCommand({ Name: name, Value: "x", Type: "SecureString" }));

    await ssm.send(new DeleteParameterCommand({ Name: name }));

    await expect(ssm.send(new GetParameterCommand({ Name: name }))).rejects.toBeInstanceOf(
      ParameterNotFound,
    );
    await expect(ssm.send(new DeleteParameterCommand({ Name: name }))).rejects.toBeInstanceOf(
      ParameterNotFound,
    );
  });

  it("rejects a name SSM would not accept", async () => {
    await expect(
      ssm.send(new PutParameterCommand({ Name: "/bad name", Value: "x", Type: "String" })),
    ).rejects.toThrow(/Name/);
  });

  it("keeps its parameters in ssm.json, readable by its owner only", async () => {
    const file = path.join(stack.stateDir, "ssm.json");

    const [info, text] = await Promise.all([stat(file), readFile(file, "utf8")]);

    expect(info.mode & 0o777).toBe(0o600);
    expect(Object.keys(JSON.parse(text))).toContain(NAME);
  });
});

describe("SSM parameters across a restart", () => {
  it("are still there when the stack starts again on the same state folder", async () => {
    // Prepare
    const stateDir = await mkdtemp(path.join(tmpdir(), "sluice-ssm-"));
    try {
      const first = await startTestStack(stateDir);
      await new SSMClient({ endpoint: first.endpoints.ssm }).send(
        new PutParameterCommand({ Name: NAME, Value: "kept", Type: "SecureString" }),
      );
      await first.stop();

      // Act
      const second = await startTestStack(stateDir);
      try {
        const { Parameter } = await new SSMClient({ endpoint: second.endpoints.ssm }).send(
          new GetParameterCommand({ Name: NAME, WithDecryption: true }),
        );

        // Assess
        expect(Parameter?.Value).toBe("kept");
      } finally {
        await second.stop();
      }
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
