import { systemClock } from "../domain/ports";
import type { ApprovalTaskPorts, DecisionPorts, LinkPorts } from "../usecases/approval";
import { appStore } from "./app-store";
import { approvalLinkKey } from "./approval-link-key";
import { approvalLinkStore } from "./approval-links";
import { approvalNotifier } from "./approval-notifier";
import { stackConfig } from "./config";
import { pipelineExecutions } from "./pipeline-executions";
import { queuePorts } from "./queue-ports";
import { runStore } from "./run-store";

/** What the approval task works with: the run's ports, the links and the notifier. */
export function approvalTaskPorts(): ApprovalTaskPorts {
  const { publicUrl } = stackConfig();
  return {
    ...queuePorts(),
    apps: appStore(),
    links: approvalLinkStore(),
    linkKey: approvalLinkKey(),
    notifier: approvalNotifier(),
    ...(publicUrl ? { publicUrl } : {}),
  };
}

/** What a decision works with, whichever way it comes (the API, Slack). */
export function decisionPorts(): DecisionPorts {
  return { runs: runStore(), executions: pipelineExecutions(), clock: systemClock };
}

/** What a decision through a personal link works with. */
export function linkPorts(): LinkPorts {
  return { ...decisionPorts(), links: approvalLinkStore(), linkKey: approvalLinkKey() };
}
