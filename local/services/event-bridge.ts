import path from "node:path";
import { logger } from "../../http/logger";
import { close, listen, serveAwsJson } from "../aws-json-server";
import { matchesPattern } from "../event-pattern";
import { DEFAULT_BUS, LocalEventBridge } from "../eventbridge";
import type { LambdaRuntime } from "../lambda-runtime";
import type { LocalService } from "../local-service";
import type { EventRule } from "../serverless-config";

/**
 * EventBridge: Sluice's bus, written to the event log of the state folder, and the default bus,
 * whose rules from serverless.yml invoke their functions.
 */
export const eventBridgeService: LocalService<"eventBridge", LocalEventBridge> = {
  name: "eventBridge",
  title: "EventBridge",
  endpointVariable: "AWS_ENDPOINT_URL_EVENTBRIDGE",
  portVariable: "SLUICE_EVENTS_PORT",
  defaultPort: 4010,
  async start({ stateDir, region, accountId, config, resources, lambdas }, port) {
    const eventBridge = new LocalEventBridge(
      path.join(stateDir, "events.jsonl"),
      new Set([resources.eventBus, DEFAULT_BUS]),
      region,
      accountId,
    );
    routeEventRules(eventBridge, config.eventRules, lambdas);
    const server = serveAwsJson("AWSEvents", "application/x-amz-json-1.1", eventBridge.operations);
    return {
      port: await listen(server, port),
      handle: eventBridge,
      env: { SLUICE_EVENT_BUS: resources.eventBus },
      summary: `bus ${resources.eventBus}, logged to ${eventBridge.logFile}`,
      stop: () => close(server),
    };
  },
};

/** The default bus's rules from serverless.yml: each matching event invokes its function. */
function routeEventRules(
  eventBridge: LocalEventBridge,
  rules: readonly EventRule[],
  lambdas: LambdaRuntime,
): void {
  eventBridge.subscribe((event) => {
    if (event["event-bus-name"] !== DEFAULT_BUS) return;
    for (const rule of rules) {
      if (!matchesPattern(rule.pattern, event)) continue;
      lambdas.invoke(rule.functionName, event).catch((error: unknown) => {
        logger.error("event rule target failed", { functionName: rule.functionName, error });
      });
    }
  });
}
