import path from "node:path";
import { z } from "zod";
import { lambdaWorkersFromEnv } from "./lambda-runtime";
import { PortInUseError } from "./local-service";
import { LOCAL_SERVICES } from "./local-services";
import { LOCAL_CREDENTIALS, type LocalStack, PROJECT_ROOT, startLocalStack } from "./stack";
import { timingFromEnv } from "./stepfunctions";

/**
 * `npm start`: the whole Sluice stack on this machine, data kept in the state folder
 * (`.sluice/` unless SLUICE_STATE_DIR says otherwise) so it survives a restart. SIGINT or
 * SIGTERM stops it; a port it cannot take is told in one line, naming its variable.
 */
const PortSchema = z
  .string()
  .regex(/^\d{1,5}$/)
  .transform(Number)
  .pipe(z.number().max(65_535));

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/** Each of a stop's failures on a line of its own (the stack tries every service's stop). */
function problemsOf(err: unknown): string {
  const errors = err instanceof AggregateError ? err.errors : [err];
  return errors.map((e) => `  ${e instanceof Error ? e.message : String(e)}`).join("\n");
}

function portsFromEnvironment(env: NodeJS.ProcessEnv): Record<string, number> {
  return Object.fromEntries(
    LOCAL_SERVICES.map((service) => {
      const value = env[service.portVariable];
      if (!value) return [service.name, service.defaultPort];
      const port = PortSchema.safeParse(value.trim());
      if (!port.success) {
        fail(`${service.portVariable} must be a port number from 0 to 65535, not "${value}"`);
      }
      return [service.name, port.data];
    }),
  );
}

function banner(stack: LocalStack): string {
  const e = stack.endpoints;
  return `
Sluice is running locally. State folder: ${stack.stateDir}

${stack.banner.map((line) => `  ${line}`).join("\n")}

Try it (another terminal, in the project folder; the README's quick start says more):
  npm run sluice -- apps put hello examples/hello-pipeline.yml
  tar -czf hello-1.0.0.tar.gz -C examples/hello-service .
  npm run sluice -- push hello-1.0.0.tar.gz --app hello --version 1.0.0
  npm run sluice -- run <run id printed by push>
  SLUICE_LOCAL_USER=ada npm run sluice -- run approve <run id>   (or the link printed below)
  tail -n 5 ${path.relative(process.cwd(), stack.eventLog)}

Dashboard (a person's token, kept in ${path.relative(process.cwd(), path.join(stack.stateDir, "ui-token"))}; open it in a browser):
  ${stack.services.api.dashboardUrl}

Approval mails (.eml) and Slack messages (.json) go to ${path.relative(process.cwd(), path.join(stack.stateDir, "outbox"))}/;
each approval mail's link is printed here as it is sent.

AWS CLI against the local services:
  export AWS_ACCESS_KEY_ID=${LOCAL_CREDENTIALS.accessKeyId} AWS_SECRET_ACCESS_KEY=${LOCAL_CREDENTIALS.secretAccessKey} AWS_DEFAULT_REGION=${stack.env.AWS_REGION}
  aws dynamodb list-tables --endpoint-url ${e.dynamodb}
  aws s3 ls --endpoint-url ${e.s3}

Ctrl-C (or SIGTERM) stops it; data stays in the state folder.
`;
}

const starting = startLocalStack({
  stateDir: path.resolve(PROJECT_ROOT, process.env.SLUICE_STATE_DIR ?? ".sluice"),
  ports: portsFromEnvironment(process.env),
  logLevel: process.env.LOG_LEVEL ?? "info",
  lambdaWorkers: lambdaWorkersFromEnv(process.env),
  // Test hooks a test that runs the stack as its own process sets (SLUICE_LOCAL_*_SCALE).
  serviceOptions: {
    stepFunctions: timingFromEnv(process.env),
    // Its store and front on a thread of their own, beside the other stand-ins.
    dynamodb: { thread: true },
    // The local inbox: each approval mail's links, printed as the mail is sent.
    ses: { inbox: (line) => process.stdout.write(`${line}\n`) },
  },
});

// Listening from the start: a signal while the stack comes up stops it once it is up. Ctrl-C
// reaches npm and node alike, and npm passes its copy on: a second signal is the same request.
let stopRequested = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopRequested) return;
    stopRequested = true;
    process.stdout.write("\nStopping Sluice...\n");
    starting
      .then(
        (stack) => stack.stop(),
        () => undefined,
      )
      .then(
        () => process.exit(0),
        (err: unknown) => fail(`Sluice did not stop cleanly:\n${problemsOf(err)}`),
      );
  });
}

try {
  const stack = await starting;
  if (!stopRequested) process.stdout.write(banner(stack));
} catch (err) {
  // What came up has been stopped already; a busy port is the user's to act on, not a bug.
  if (err instanceof PortInUseError) fail(err.message);
  throw err;
}
