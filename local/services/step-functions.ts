import path from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import { logger } from "../../http/logger";
import { close, listen, serveAwsJson } from "../aws-json-server";
import { LocalCodeBuild } from "../codebuild";
import { DEFAULT_BUS, type PutEventsEntry } from "../eventbridge";
import type { LocalService } from "../local-service";
import {
  createLocalStepFunctions,
  type ExecutionStatusChange,
  type LocalStepFunctions,
  type Timing,
} from "../stepfunctions";
import { eventBridgeService } from "./event-bridge";

/**
 * Step Functions: the state machines of serverless.yml, their Lambda tasks calling the functions
 * in-process and `codebuild:startBuild.sync` running builds under the state folder. Each
 * execution's end is announced on the default bus, as Step Functions does.
 */
export const stepFunctionsService: LocalService<"stepFunctions", LocalStepFunctions, Timing> = {
  name: "stepFunctions",
  title: "Step Functions",
  endpointVariable: "AWS_ENDPOINT_URL_SFN",
  portVariable: "SLUICE_SFN_PORT",
  defaultPort: 8083,
  async start(context, port, timing) {
    const { stateDir, region, accountId, credentials, config, resources, lambdas, faults } =
      context;
    let s3Client: S3Client | undefined;
    const eventBridge = context.use(eventBridgeService);
    const codeBuild = new LocalCodeBuild(
      path.join(stateDir, "codebuild"),
      new Set([resources.buildProject]),
      region,
      accountId,
      // The stack's environment points it at the local S3 once every service listens. s3rver
      // would keep a streamed body's aws-chunked framing as the object's bytes.
      () =>
        (s3Client ??= new S3Client({
          region,
          credentials,
          forcePathStyle: true,
          requestChecksumCalculation: "WHEN_REQUIRED",
        })),
    );
    const stepFunctions = await createLocalStepFunctions({
      stateDir,
      lambdas,
      integrations: {
        "arn:aws:states:::codebuild:startBuild.sync": (input, { signal }) =>
          codeBuild.startBuildSync(input, signal),
      },
      region,
      accountId,
      ...(timing ? { timing } : {}),
    });
    for (const [key, definition] of config.stateMachines) {
      stepFunctions.register(config.stateMachineNames.get(key) ?? key, definition);
    }
    const announcing = new Set<Promise<unknown>>();
    stepFunctions.onEnded((change) => {
      const announced = eventBridge
        .put([statusChangeEntry(change)])
        .catch((error: unknown) => logger.error("could not announce an execution's end", { error }))
        .finally(() => announcing.delete(announced));
      announcing.add(announced);
      return announced;
    });
    const server = serveAwsJson(
      "AWSStepFunctions",
      "application/x-amz-json-1.0",
      stepFunctions.operations,
      (operation) => faults.take("stepFunctions", operation),
    );
    return {
      port: await listen(server, port),
      handle: stepFunctions,
      env: {
        SLUICE_PIPELINE_ARN: resources.pipelineArn,
        SLUICE_BUILD_PROJECT: resources.buildProject,
      },
      summary: resources.pipelineArn,
      // Executions a previous process left running go on once the services their tasks call
      // listen and the stack's environment is set.
      ready: async () => stepFunctions.resumeAll(),
      drain: async () => {
        await stepFunctions.stop();
        await Promise.allSettled([...announcing]);
      },
      stop: () => close(server),
    };
  },
};

/** A "Step Functions Execution Status Change" event as Step Functions puts it on the bus. */
function statusChangeEntry(change: ExecutionStatusChange): PutEventsEntry {
  return {
    Source: "aws.states",
    DetailType: "Step Functions Execution Status Change",
    EventBusName: DEFAULT_BUS,
    Resources: [change.executionArn],
    Detail: JSON.stringify({
      executionArn: change.executionArn,
      stateMachineArn: change.stateMachineArn,
      name: change.name,
      status: change.status,
      startDate: Math.round(change.startDate * 1000),
      stopDate: Math.round(change.stopDate * 1000),
      ...(change.error ? { error: change.error } : {}),
      ...(change.cause ? { cause: change.cause } : {}),
    }),
  };
}
