import path from "node:path";
import { logger } from "../../http/logger";
import { close, listen, serveAwsJson } from "../aws-json-server";
import { matchesPattern } from "../event-pattern";
import { type BusEvent, DEFAULT_BUS, LocalEventBridge } from "../eventbridge";
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
  async start({ stateDir, region, accountId, config, resources, lambdas, faults }, port) {
    const eventBridge = new LocalEventBridge(
      path.join(stateDir, "events.jsonl"),
      new Set([resources.eventBus, DEFAULT_BUS]),
      region,
      accountId,
    );
    const targets = routeEventRules(eventBridge, config.eventRules, lambdas);
    const server = serveAwsJson(
      "AWSEvents",
      "application/x-amz-json-1.1",
      eventBridge.operations,
      (operation) => faults.take("eventBridge", operation),
    );
    return {
      port: await listen(server, port),
      handle: eventBridge,
      env: { SLUICE_EVENT_BUS: resources.eventBus },
      summary: `bus ${resources.eventBus}, logged to ${eventBridge.logFile}`,
      drain: async () => targets.stop(),
      stop: async () => {
        await close(server);
        await eventBridge.close();
      },
    };
  },
};

/** EventBridge retries a rule target's failed invocation with backoff (for up to a day). */
const TARGET_ATTEMPTS = 8;
const FIRST_RETRY_MS = 200;
const MAX_RETRY_MS = 30_000;

/**
 * The default bus's rules from serverless.yml: each matching event invokes its function, and a
 * failed invocation is tried again with backoff, as EventBridge does, so a target's transient
 * failure (ending a run, say) does not lose the event. Retries still waiting are dropped when
 * the stack stops, as a restart would drop them.
 */
function routeEventRules(
  eventBridge: LocalEventBridge,
  rules: readonly EventRule[],
  lambdas: LambdaRuntime,
): { stop(): void } {
  const waiting = new Set<NodeJS.Timeout>();
  let stopped = false;
  const deliver = (functionName: string, event: BusEvent, attempt: number) => {
    lambdas.invoke(functionName, event).catch((error: unknown) => {
      if (stopped) return;
      if (attempt >= TARGET_ATTEMPTS) {
        logger.error("event rule target failed; giving up", { functionName, attempt, error });
        return;
      }
      logger.warn("event rule target failed; retrying", { functionName, attempt, error });
      const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (attempt - 1));
      const timer = setTimeout(() => {
        waiting.delete(timer);
        deliver(functionName, event, attempt + 1);
      }, delay);
      waiting.add(timer);
    });
  };
  eventBridge.subscribe((event) => {
    if (event["event-bus-name"] !== DEFAULT_BUS) return;
    for (const rule of rules) {
      if (matchesPattern(rule.pattern, event)) deliver(rule.functionName, event, 1);
    }
  });
  return {
    stop() {
      stopped = true;
      for (const timer of waiting) clearTimeout(timer);
      waiting.clear();
    },
  };
}
