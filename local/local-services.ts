import { cloudWatchService } from "./services/cloudwatch";
import { codeDeployService } from "./services/codedeploy";
import { dynamodbService } from "./services/dynamodb";
import { eventBridgeService } from "./services/event-bridge";
import { httpApiService } from "./services/http-api";
import { s3Service } from "./services/s3";
import { sesService } from "./services/ses";
import { slackService } from "./services/slack";
import { ssmService } from "./services/ssm";
import { stepFunctionsService } from "./services/step-functions";

/**
 * Every stand-in of the local stack, in the order they start. A service may use those before
 * it; they stop in the reverse order, so the intakes (the HTTP API, bucket uploads) close
 * first, then the work in flight ends, then the services that work talks to stop.
 */
export const LOCAL_SERVICES = [
  dynamodbService,
  ssmService,
  sesService,
  slackService,
  eventBridgeService,
  cloudWatchService,
  stepFunctionsService,
  s3Service,
  codeDeployService,
  httpApiService,
] as const;

export type LocalServiceName = (typeof LOCAL_SERVICES)[number]["name"];
