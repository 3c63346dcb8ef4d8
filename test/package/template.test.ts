import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import yauzl from "yauzl";
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
interface PolicyDocument {
  Statement: Statement | Statement[];
}

let outDir: string;
let resources: Record<string, Resource>;
/** What packaging added to the system's temporary folder in serverless-esbuild's naming. */
let leftInTmp: string[];
const ofType = (type: string) => Object.values(resources).filter((r) => r.Type === type);

beforeAll(async () => {
  outDir = await mkdtemp(path.join(tmpdir(), "sluice-package-"));
  const before = new Set(await readdir(tmpdir()));
  // What `npm run package` runs, into a folder of the test's own; no AWS credentials.
  await promisify(execFile)(
    path.join(PROJECT_ROOT, "node_modules/.bin/tsx"),
    ["scripts/osls.ts", "package", "--stage", "ci", "--package", outDir],
    {
      cwd: PROJECT_ROOT,
      env: { ...process.env, AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" },
    },
  );
  // <function>-<pid>-<time>-<hex>: a function's staging folder.
  leftInTmp = (await readdir(tmpdir())).filter(
    (name) => !before.has(name) && /^[A-Za-z]\w*-\d+-\d+-[0-9a-f]{8}$/.test(name),
  );
  const template = JSON.parse(
    await readFile(path.join(outDir, "cloudformation-template-update-stack.json"), "utf8"),
  ) as { Resources: Record<string, Resource> };
  resources = template.Resources;
}, 120_000);
afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

describe("npm run package", () => {
  it("leaves none of its staging folders in the system's temporary folder", () => {
    expect(leftInTmp).toEqual([]);
  });
});

describe("the packaged CloudFormation template", () => {
  it("routes each API call to its function", () => {
    const integrations = Object.fromEntries(
      ofType("AWS::ApiGatewayV2::Route").map((r) => {
        const target = r.Properties.Target as { "Fn::Join": [string, [string, { Ref: string }]] };
        const integration = resources[target["Fn::Join"][1][1].Ref];
        const uri = integration?.Properties.IntegrationUri as { "Fn::GetAtt": [string, string] };
        return [r.Properties.RouteKey, uri["Fn::GetAtt"][0]];
      }),
    );
    expect(integrations).toEqual({
      "GET /apps": "ListAppsLambdaFunction",
      "PUT /apps/{app}": "PutAppLambdaFunction",
      "GET /apps/{app}": "GetAppLambdaFunction",
      "POST /apps/{app}/runs": "CreateRunLambdaFunction",
      "GET /apps/{app}/runs": "ListRunsLambdaFunction",
      "GET /apps/{app}/metrics": "GetMetricsLambdaFunction",
      "GET /apps/{app}/bundles/{version}": "GetBundleLambdaFunction",
      "POST /apps/{app}/releases/{version}/runs": "ReleaseVersionLambdaFunction",
      "POST /apps/{app}/releases/{version}/rollbacks": "RollBackToReleaseLambdaFunction",
      "GET /runs/{id}": "GetRunLambdaFunction",
      "POST /webhooks/{provider}": "ReceiveWebhookLambdaFunction",
      "POST /apps/{app}/webhook-secret": "CreateWebhookSecretLambdaFunction",
      "POST /runs/{id}/stop": "StopRunLambdaFunction",
      "POST /runs/{id}/retry": "RetryRunLambdaFunction",
      "POST /runs/{id}/approval": "DecideApprovalLambdaFunction",
      "GET /approvals/{token}": "ApprovalPageLambdaFunction",
      "HEAD /approvals/{token}": "ApprovalPageLambdaFunction",
      "POST /approvals/{token}": "ApprovalPageLambdaFunction",
      "POST /slack/interactions": "SlackInteractionsLambdaFunction",
      "POST /runs/{id}/override": "OverrideRunLambdaFunction",
      "POST /apps/{app}/freeze": "FreezeAppLambdaFunction",
      "GET /apps/{app}/freeze": "FreezeAppLambdaFunction",
      "POST /apps/{app}/unfreeze": "UnfreezeAppLambdaFunction",
      "GET /api/apps/{app}": "GetAppLambdaFunction",
      "GET /api/apps/{app}/runs": "ListRunsLambdaFunction",
      "GET /api/runs/{id}": "GetRunLambdaFunction",
      "GET /api/apps": "ListAppsLambdaFunction",
      "GET /api/runs": "ListRunsLambdaFunction",
      "GET /api/runs/{id}/audit": "GetAuditLambdaFunction",
      "GET /api/apps/{app}/audit": "GetAuditLambdaFunction",
      "GET /api/runs/{id}/approvals": "GetRunApprovalsLambdaFunction",
      "GET /api/apps/{app}/fleet": "GetFleetLambdaFunction",
      "GET /api/apps/{app}/metrics": "GetMetricsLambdaFunction",
      "POST /api/runs/{id}/approval": "DecideApprovalLambdaFunction",
      "GET /ui": "DashboardLambdaFunction",
      "GET /ui/{file}": "DashboardLambdaFunction",
      "GET /runs": "ListRunsLambdaFunction",
      "GET /runs/{id}/audit": "GetAuditLambdaFunction",
      "GET /apps/{app}/audit": "GetAuditLambdaFunction",
      "GET /runs/{id}/approvals": "GetRunApprovalsLambdaFunction",
      "GET /apps/{app}/fleet": "GetFleetLambdaFunction",
    });
  });

  it("tells every function the HTTP API's own URL, for approval links", () => {
    const functions = ofType("AWS::Lambda::Function");
    for (const fn of functions) {
      const { Environment } = fn.Properties as {
        Environment: { Variables: Record<string, unknown> };
      };
      expect(Environment.Variables.SLUICE_PUBLIC_URL).toEqual({
        "Fn::GetAtt": ["HttpApi", "ApiEndpoint"],
      });
    }
  });

  it("has the run and intake functions, all on nodejs22.x", () => {
    const functions = Object.entries(resources).filter(
      ([, r]) => r.Type === "AWS::Lambda::Function",
    );
    expect(functions.map(([id]) => id)).toEqual(
      expect.arrayContaining([
        "CreateRunLambdaFunction",
        "GetRunLambdaFunction",
        "NextStepLambdaFunction",
        "AwaitApprovalLambdaFunction",
        "PublishEventsLambdaFunction",
        "ReceiveWebhookLambdaFunction",
        "ReceiveBundleLambdaFunction",
      ]),
    );
    for (const [id, fn] of functions)
      expect([id, fn.Properties.Runtime]).toEqual([id, "nodejs22.x"]);
  });

  it("lets only IAM principals use the API, except the signed webhooks, approval links and Slack clicks, the dashboard's files and people's JWTs", () => {
    const routes = ofType("AWS::ApiGatewayV2::Route");
    const authorization = Object.fromEntries(
      routes
        .filter((r) => !String(r.Properties.RouteKey).startsWith("GET /ui"))
        .filter((r) => !String(r.Properties.RouteKey).includes(" /api/"))
        .map((r) => [r.Properties.RouteKey, r.Properties.AuthorizationType ?? "NONE"]),
    );
    const {
      "POST /webhooks/{provider}": webhooks,
      "GET /approvals/{token}": showLink,
      "HEAD /approvals/{token}": headLink,
      "POST /approvals/{token}": decideByLink,
      "POST /slack/interactions": slack,
      ...rest
    } = authorization;
    expect([webhooks, showLink, headLink, decideByLink, slack]).toEqual([
      "NONE",
      "NONE",
      "NONE",
      "NONE",
      "NONE",
    ]);
    const dashboard = routes.filter((r) => String(r.Properties.RouteKey).startsWith("GET /ui"));
    expect(dashboard.map((r) => r.Properties.AuthorizationType ?? "NONE")).toEqual([
      "NONE",
      "NONE",
    ]);
    expect(Object.keys(rest)).not.toHaveLength(0);
    for (const [route, type] of Object.entries(rest))
      expect([route, type]).toEqual([route, "AWS_IAM"]);
  });

  it("lets people onto the /api routes with a JWT from the team's OIDC provider, and nobody else", () => {
    const authorizers = ofType("AWS::ApiGatewayV2::Authorizer");
    expect(authorizers.map((a) => a.Properties)).toEqual([
      expect.objectContaining({
        Name: "people",
        AuthorizerType: "JWT",
        IdentitySource: ["$request.header.Authorization"],
        JwtConfiguration: { Issuer: "https://sign-in.example.com", Audience: ["sluice-dashboard"] },
      }),
    ]);
    const people = ofType("AWS::ApiGatewayV2::Route").filter((r) =>
      String(r.Properties.RouteKey).includes(" /api/"),
    );
    expect(people.map((r) => r.Properties.RouteKey)).toHaveLength(11);
    for (const route of people) {
      expect([route.Properties.RouteKey, route.Properties.AuthorizationType]).toEqual([
        route.Properties.RouteKey,
        "JWT",
      ]);
      expect(route.Properties.AuthorizerId).toEqual({ Ref: "HttpApiAuthorizerPeople" });
    }
  });

  it("lets the functions send approval mails and read, not write, the Slack app's settings", () => {
    const policies = (resources.IamRoleLambdaExecution?.Properties.Policies ?? []) as {
      PolicyDocument: PolicyDocument;
    }[];
    const statements = policies.flatMap((p) => [p.PolicyDocument.Statement].flat());
    const mails = statements.filter((s) => [s.Action].flat().includes("ses:SendEmail"));
    const slack = statements.filter((s) => JSON.stringify(s.Resource).includes("/slack/*"));

    expect(mails).toHaveLength(1);
    expect(JSON.stringify(mails[0]?.Resource)).toContain(":identity/*");
    expect(slack.map((s) => [s.Action].flat())).toEqual([["ssm:GetParameter"]]);
    expect(JSON.stringify(slack[0]?.Resource)).toContain("parameter/sluice/ci/slack/*");
  });

  it("has the pipeline state machine, the table, the releases bucket and the event bus", () => {
    expect(resources.PipelineStateMachine?.Type).toBe("AWS::StepFunctions::StateMachine");
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

  it("hands every new .zip or .tar.gz in the releases bucket to receiveBundle", () => {
    const upload = (suffix: string) => ({
      Event: "s3:ObjectCreated:*",
      Filter: { S3Key: { Rules: [{ Name: "suffix", Value: suffix }] } },
      Function: { "Fn::GetAtt": ["ReceiveBundleLambdaFunction", "Arn"] },
    });
    const notifications = resources.ReleasesBucket?.Properties.NotificationConfiguration as
      | { LambdaConfigurations?: unknown[] }
      | undefined;
    expect(notifications?.LambdaConfigurations).toEqual(
      expect.arrayContaining([upload(".zip"), upload(".tar.gz")]),
    );
  });

  it("lets builds put objects only where builds leave their bundles", () => {
    const policies = (resources.BuildRole?.Properties.Policies ?? []) as {
      PolicyDocument: PolicyDocument;
    }[];
    const statements = policies.flatMap((p) => [p.PolicyDocument.Statement].flat());
    const puts = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith("s3:Put")));
    expect(puts).toHaveLength(1);
    expect(puts[0]?.Action).toBe("s3:PutObject");
    expect(JSON.stringify(puts[0]?.Resource)).toMatch(/releases.*"\/\*\/builds\/\*"/);
  });

  it("sends an upload receiveBundle failed on, after Lambda's retries, to the event bus", () => {
    const configs = ofType("AWS::Lambda::EventInvokeConfig").filter(
      (c) => JSON.stringify(c.Properties.FunctionName) === '{"Ref":"ReceiveBundleLambdaFunction"}',
    );

    expect(configs.map((c) => c.Properties.DestinationConfig)).toEqual([
      { OnFailure: { Destination: { "Fn::GetAtt": ["SluiceEventBus", "Arn"] } } },
    ]);
  });

  it("ends runs whose pipeline execution ended, and passes their app's slot on", () => {
    const rules = ofType("AWS::Events::Rule").filter((rule) =>
      JSON.stringify(rule.Properties.Targets).includes("ExecutionEndedLambdaFunction"),
    );

    expect(rules.map((rule) => rule.Properties.EventPattern)).toEqual([
      {
        source: ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        detail: { status: ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"] },
      },
    ]);
  });

  it("publishes each run's outbox, admits each new run and resumes released holds from the table's stream, retrying only what failed", () => {
    const mappings = ofType("AWS::Lambda::EventSourceMapping");
    const of = (fn: string) =>
      mappings.find(
        (m) =>
          JSON.stringify(m.Properties.FunctionName) ===
          JSON.stringify({ "Fn::GetAtt": [fn, "Arn"] }),
      )?.Properties;

    expect(mappings).toHaveLength(3);
    expect(of("PublishEventsLambdaFunction")).toMatchObject({
      EventSourceArn: { "Fn::GetAtt": ["SluiceTable", "StreamArn"] },
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({
              eventName: ["INSERT"],
              dynamodb: { Keys: { sk: { S: [{ prefix: "EVENT#" }] } } },
            }),
          },
        ],
      },
    });
    expect(of("AdmitRunsLambdaFunction")).toMatchObject({
      EventSourceArn: { "Fn::GetAtt": ["SluiceTable", "StreamArn"] },
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      MaximumRetryAttempts: -1,
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({
              eventName: ["INSERT"],
              dynamodb: { Keys: { sk: { S: ["RUN"] } } },
            }),
          },
        ],
      },
    });
    // A lifted freeze, or a released deployment group a wave waited for, lets the waves it
    // held look again.
    expect(of("HoldsReleasedLambdaFunction")).toMatchObject({
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({
              eventName: ["REMOVE", "MODIFY"],
              dynamodb: { Keys: { sk: { S: ["FREEZE"] } } },
            }),
          },
          {
            Pattern: JSON.stringify({
              eventName: ["REMOVE"],
              dynamodb: {
                Keys: { sk: { S: ["LOCK"] } },
                OldImage: { watched: { BOOL: [true] } },
              },
            }),
          },
        ],
      },
    });
    expect(resources.SluiceTable?.Properties.StreamSpecification).toEqual({
      StreamViewType: "NEW_AND_OLD_IMAGES",
    });
  });

  it("lets the pipeline's functions resume, stop and redrive its executions", () => {
    const statements = JSON.stringify(resources.IamRoleLambdaExecution?.Properties);
    for (const action of [
      "states:SendTaskSuccess",
      "states:SendTaskFailure",
      "states:StopExecution",
      "states:RedriveExecution",
    ]) {
      expect(statements).toContain(action);
    }
  });

  it("grants no IAM statement every action on every resource", () => {
    const documents = [
      ...ofType("AWS::IAM::Role").flatMap((role) =>
        ((role.Properties.Policies ?? []) as { PolicyDocument: PolicyDocument }[]).map(
          (p) => p.PolicyDocument,
        ),
      ),
      ...ofType("AWS::IAM::Policy").map((p) => p.Properties.PolicyDocument as PolicyDocument),
      ...ofType("AWS::IAM::ManagedPolicy").map(
        (p) => p.Properties.PolicyDocument as PolicyDocument,
      ),
    ];
    const statements = documents.flatMap((d) => [d.Statement].flat());
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

/** Uncompressed size of each file in a zip, by name. */
async function zipSizes(file: string): Promise<Map<string, number>> {
  const zip = await yauzl.openPromise(file);
  const sizes = new Map<string, number>();
  try {
    for await (const entry of zip.eachEntry()) sizes.set(entry.fileName, entry.uncompressedSize);
  } finally {
    zip.close();
  }
  return sizes;
}

describe("the packaged functions", () => {
  it("give the dashboard its page and modules, as files beside its handler", async () => {
    const fn = resources.DashboardLambdaFunction?.Properties as { Code: { S3Key: string } };
    const files = await zipSizes(path.join(outDir, path.basename(fn.Code.S3Key)));
    expect([...files.keys()]).toEqual(
      expect.arrayContaining([
        "functions/dashboard.mjs",
        "ui/index.html",
        "ui/app.js",
        "ui/api.js",
      ]),
    );
  });

  // A handler's code is what Lambda reads at every cold start; the SDK is the runtime's own.
  it("each hold a handler under 300 KB", async () => {
    const functions = ofType("AWS::Lambda::Function");
    expect(functions.length).toBeGreaterThan(0);
    const handlers = await Promise.all(
      functions.map(async (fn) => {
        const { Handler, Code } = fn.Properties as { Handler: string; Code: { S3Key: string } };
        const zip = path.basename(Code.S3Key);
        const module = `${Handler.slice(0, Handler.lastIndexOf("."))}.mjs`;
        return { zip, module, size: (await zipSizes(path.join(outDir, zip))).get(module) };
      }),
    );
    expect(handlers.filter((h) => h.size === undefined || h.size >= 300 * 1024)).toEqual([]);
  });
});
