import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadServerlessConfig } from "../../local/serverless-config";
import { PROJECT_ROOT } from "../../local/stack";

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
}
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

let outDir: string;
let resources: Record<string, Resource>;
const ofType = (type: string) => Object.values(resources).filter((r) => r.Type === type);

beforeAll(async () => {
  outDir = await mkdtemp(path.join(tmpdir(), "sluice-package-"));
  // The same command `npm run package` runs, into a folder of the test's own; no AWS credentials.
  await promisify(execFile)(
    path.join(PROJECT_ROOT, "node_modules/.bin/osls"),
    ["package", "--stage", "ci", "--package", outDir],
    {
      cwd: PROJECT_ROOT,
      env: { ...process.env, AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" },
    },
  );
  const template = JSON.parse(
    await readFile(path.join(outDir, "cloudformation-template-update-stack.json"), "utf8"),
  ) as { Resources: Record<string, Resource> };
  resources = template.Resources;
}, 120_000);
afterAll(() => rm(outDir, { recursive: true, force: true }));

describe("the packaged CloudFormation template", async () => {
  const config = await loadServerlessConfig(PROJECT_ROOT);

  it("has every function of serverless.yml on nodejs22.x", () => {
    const functions = ofType("AWS::Lambda::Function");
    expect(functions).toHaveLength(config.functions.size);
    for (const fn of functions) expect(fn.Properties.Runtime).toBe("nodejs22.x");
  });

  it("has a route for every httpApi event", () => {
    const routeKeys = ofType("AWS::ApiGatewayV2::Route").map((r) => r.Properties.RouteKey);
    expect(routeKeys.sort()).toEqual(config.routes.map((r) => `${r.method} ${r.path}`).sort());
  });

  it("lets only IAM principals use the API, except the signed webhooks", () => {
    const authorization = Object.fromEntries(
      ofType("AWS::ApiGatewayV2::Route").map((r) => [
        r.Properties.RouteKey,
        r.Properties.AuthorizationType ?? "NONE",
      ]),
    );
    const { "POST /webhooks/{provider}": webhooks, ...rest } = authorization;
    expect(webhooks).toBe("NONE");
    expect(Object.keys(rest)).not.toHaveLength(0);
    for (const [route, type] of Object.entries(rest))
      expect([route, type]).toEqual([route, "AWS_IAM"]);
  });

  it("has every state machine, the table, the releases bucket and the event bus", () => {
    expect(ofType("AWS::StepFunctions::StateMachine")).toHaveLength(config.stateMachines.size);
    expect(resources.SluiceTable?.Type).toBe("AWS::DynamoDB::Table");
    expect(resources.ReleasesBucket?.Type).toBe("AWS::S3::Bucket");
    expect(resources.SluiceEventBus?.Type).toBe("AWS::Events::EventBus");
  });

  it("keeps release bundles versioned and private", () => {
    const bucket = resources.ReleasesBucket?.Properties ?? {};
    expect(bucket.VersioningConfiguration).toEqual({ Status: "Enabled" });
    expect(bucket.PublicAccessBlockConfiguration).toMatchObject({
      BlockPublicAcls: true,
      RestrictPublicBuckets: true,
    });
  });

  it("grants no IAM statement every action on every resource", () => {
    const statements = ofType("AWS::IAM::Role").flatMap((role) =>
      (
        (role.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]
      ).flatMap((p) => p.PolicyDocument.Statement),
    );
    expect(statements.length).toBeGreaterThan(0);
    const wide = statements.filter((s) => {
      const actions = [s.Action].flat();
      const targets = [s.Resource].flat();
      return (
        s.Effect === "Allow" &&
        actions.some((a) => a === "*" || a.endsWith(":*")) &&
        targets.some((r) => r === "*")
      );
    });
    expect(wide).toEqual([]);
  });
});
