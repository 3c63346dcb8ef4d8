import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { create as createTar } from "tar";
import { LOCAL_CREDENTIALS, PROJECT_ROOT } from "../../local/stack";
import { api, type startTestStack, waitFor } from "./local-stack";

type TestStack = Awaited<ReturnType<typeof startTestStack>>;

/**
 * The example app's fleet: beta and gamma on a host each, then ten production hosts in three
 * waves (one-box, four, five).
 */
export const HELLO_FLEET = `
applications:
  hello:
    groups:
      beta: { hosts: 1, deploymentConfig: CodeDeployDefault.AllAtOnce }
      gamma: { hosts: 1, deploymentConfig: CodeDeployDefault.AllAtOnce }
      prod-1: { hosts: 1 }
      prod-2: { hosts: 4, deploymentConfig: CodeDeployDefault.HalfAtATime }
      prod-3: { hosts: 5, deploymentConfig: CodeDeployDefault.HalfAtATime }
`;
/** HELLO_FLEET's deployment groups, in the order a run deploys them. */
export const HELLO_GROUPS = ["beta", "gamma", "prod-1", "prod-2", "prod-3"];

/**
 * Releases the example app (examples/hello-service) as app `hello`, version `version` (its
 * VERSION file), with `validate` put first in its ValidateService script: packed in `workDir`,
 * uploaded to the stack's releases bucket as a user would. Answers the run the upload started.
 */
export async function releaseExample(
  stack: TestStack,
  workDir: string,
  version: string,
  validate = "",
): Promise<string> {
  const dir = path.join(workDir, `hello-${version}`);
  await mkdir(dir);
  await cp(path.join(PROJECT_ROOT, "examples/hello-service"), dir, { recursive: true });
  await writeFile(path.join(dir, "VERSION"), `${version}\n`);
  const script = path.join(dir, "scripts/validate.sh");
  const lines = (await readFile(script, "utf8")).split("\n");
  await writeFile(script, [lines[0], validate, ...lines.slice(1)].join("\n"));
  const file = path.join(workDir, `hello-${version}.tar.gz`);
  await createTar({ gzip: true, file, cwd: dir, portable: true }, ["."]);
  const s3 = new S3Client({
    endpoint: stack.endpoints.s3,
    region: "us-east-1",
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
  });
  await s3.send(
    new PutObjectCommand({
      Bucket: stack.resources.releasesBucket,
      Key: `hello/${version}.tar.gz`,
      Body: await readFile(file),
    }),
  );
  return waitFor(async () => {
    const { body } = await api(stack, "GET", `/apps/hello/bundles/${version}`);
    return body.release?.runId;
  });
}
