import path from "node:path";
import { LOCAL_CREDENTIALS, PROJECT_ROOT, startLocalStack } from "./stack";
import { timingFromEnv } from "./stepfunctions";

/**
 * `npm start`: the whole Sluice stack on this machine, data kept in the state folder
 * (`.sluice/` unless SLUICE_STATE_DIR says otherwise) so it survives a restart.
 */
const stateDir = path.resolve(PROJECT_ROOT, process.env.SLUICE_STATE_DIR ?? ".sluice");
const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

const stack = await startLocalStack({
  stateDir,
  ports: {
    api: port("SLUICE_API_PORT", 3000),
    dynamodb: port("SLUICE_DYNAMODB_PORT", 8000),
    s3: port("SLUICE_S3_PORT", 4569),
    stepFunctions: port("SLUICE_SFN_PORT", 8083),
    eventBridge: port("SLUICE_EVENTS_PORT", 4010),
    ssm: port("SLUICE_SSM_PORT", 4583),
  },
  logLevel: process.env.LOG_LEVEL ?? "info",
  timing: timingFromEnv(process.env),
});

const { endpoints: e, resources: r } = stack;
process.stdout.write(`
Sluice is running locally. State folder: ${stack.stateDir}

  HTTP API        ${e.api}
  DynamoDB        ${e.dynamodb}   table ${r.table}
  S3              ${e.s3}   bucket ${r.releasesBucket} (path-style)
  Step Functions  ${e.stepFunctions}   ${r.pipelineArn}
  EventBridge     ${e.eventBridge}   bus ${r.eventBus}
  SSM             ${e.ssm}   webhook secrets under ${r.secretsPrefix}
  Event log       ${stack.eventLog}

Try it (another terminal, in the project folder):
  curl -X PUT ${e.api}/apps/hello --data-binary 'executionMode: queued'
  tar -czf hello-1.0.0.tar.gz -C examples/hello-service .
  npm run sluice -- push hello-1.0.0.tar.gz --app hello --version 1.0.0
  curl ${e.api}/runs/<run id printed by push>
  tail -n 5 ${path.relative(process.cwd(), stack.eventLog)}

AWS CLI against the local services:
  export AWS_ACCESS_KEY_ID=${LOCAL_CREDENTIALS.accessKeyId} AWS_SECRET_ACCESS_KEY=${LOCAL_CREDENTIALS.secretAccessKey} AWS_DEFAULT_REGION=us-east-1
  aws dynamodb list-tables --endpoint-url ${e.dynamodb}
  aws s3 ls --endpoint-url ${e.s3}

Ctrl-C stops it; data stays in the state folder.
`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write("\nStopping Sluice...\n");
    stack.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`${String(err)}\n`);
        process.exit(1);
      },
    );
  });
}
