import { access } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { close, listen, serveAwsJson } from "../aws-json-server";
import { codeDeployOperations } from "../codedeploy/api";
import { applyFleetFile, FLEET_FILE, readFleetFile } from "../codedeploy/fleet-file";
import {
  DEFAULT_HOST_PORT_BASE,
  type HostView,
  LocalCodeDeploy,
  type LocalCodeDeployOptions,
} from "../codedeploy/local-codedeploy";
import { type BusEvent, DEFAULT_BUS } from "../eventbridge";
import type { LocalService } from "../local-service";
import { eventBridgeService } from "./event-bridge";

export interface CodeDeployServiceOptions extends LocalCodeDeployOptions {
  /**
   * The fleet file to apply at start; false for none. By default `local-fleet.yml` in the
   * state folder, else at the project root.
   */
  fleetFile?: string | false;
}

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * CodeDeploy (EC2/on-premises): a local fleet of hosts, each a folder under the state folder,
 * deployed to by the appspec's hooks as CodeDeploy's agent would, with CodeDeploy's state-change
 * events on the default bus. The fleet file declares groups and host counts.
 */
export const codeDeployService: LocalService<
  "codedeploy",
  LocalCodeDeploy,
  CodeDeployServiceOptions
> = {
  name: "codedeploy",
  title: "CodeDeploy",
  endpointVariable: "AWS_ENDPOINT_URL_CODEDEPLOY",
  portVariable: "SLUICE_CODEDEPLOY_PORT",
  defaultPort: 4595,
  async start(context, port, options) {
    const eventBridge = context.use(eventBridgeService);
    const codeDeploy = await LocalCodeDeploy.open({
      dir: path.join(context.stateDir, "codedeploy"),
      region: context.region,
      accountId: context.accountId,
      credentials: context.credentials,
      putEvents: (entries) => eventBridge.put(entries),
      options: { hostPortBase: hostPortBase(process.env), ...options },
    });
    const fleetFile = await findFleetFile(context.stateDir, options?.fleetFile);
    const fleet = fleetFile ? await readFleetFile(fleetFile) : undefined;
    if (fleet) await applyFleetFile(codeDeploy, fleet);
    // A deployment group's CloudWatch alarms stop its deployment, as CodeDeploy watches them.
    const unsubscribe = eventBridge.subscribe((event) => {
      const alarm = alarmRaised(event);
      if (alarm) codeDeploy.alarmRaised(alarm);
    });
    const server = serveAwsJson(
      "CodeDeploy_20141006",
      "application/x-amz-json-1.1",
      codeDeployOperations(codeDeploy),
      (operation) => context.faults.take("codedeploy", operation),
    );
    return {
      port: await listen(server, port),
      handle: codeDeploy,
      summary: `${hostSummary(codeDeploy.hosts())}${fleetFile && fleet ? `; fleet from ${shown(fleetFile)}` : ""}`,
      ready: async () => {
        await codeDeploy.endInterrupted();
        await codeDeploy.bootHosts();
      },
      drain: () => {
        unsubscribe();
        return codeDeploy.drain();
      },
      stop: () => close(server),
    };
  },
};

/** SLUICE_HOST_PORT_BASE moves the ports new hosts get (base + 1, base + 2, ...). */
function hostPortBase(env: NodeJS.ProcessEnv): number {
  const value = env.SLUICE_HOST_PORT_BASE?.trim();
  if (!value) return DEFAULT_HOST_PORT_BASE;
  const base = Number(value);
  if (!/^\d{1,5}$/.test(value) || base > 65_000) {
    throw new Error(`SLUICE_HOST_PORT_BASE must be a port number from 0 to 65000, not "${value}"`);
  }
  return base;
}

/** The alarm a "CloudWatch Alarm State Change" event on the default bus puts in ALARM, if any. */
function alarmRaised(event: BusEvent): string | undefined {
  if (event["event-bus-name"] !== DEFAULT_BUS || event.source !== "aws.cloudwatch")
    return undefined;
  if (event["detail-type"] !== "CloudWatch Alarm State Change") return undefined;
  const detail = event.detail as { alarmName?: unknown; state?: { value?: unknown } };
  return detail.state?.value === "ALARM" && typeof detail.alarmName === "string"
    ? detail.alarmName
    : undefined;
}

async function findFleetFile(stateDir: string, chosen: string | false | undefined) {
  if (chosen === false) return undefined;
  if (chosen) return chosen;
  for (const candidate of [path.join(stateDir, FLEET_FILE), path.join(PROJECT_ROOT, FLEET_FILE)]) {
    if (
      await access(candidate).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  return undefined;
}

/** A path as a person in the project folder would type it. */
function shown(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith("..") ? file : relative;
}

/** Where each group's hosts listen, e.g. `hello/beta :9101, hello/prod :9102-9111`. */
function hostSummary(hosts: readonly HostView[]): string {
  if (hosts.length === 0) return "no hosts (declare them in local-fleet.yml)";
  const byGroup = new Map<string, number[]>();
  for (const host of hosts) {
    for (const group of host.groups.length ? host.groups : ["(no group)"]) {
      byGroup.set(group, [...(byGroup.get(group) ?? []), host.port]);
    }
  }
  const groups = [...byGroup].map(([group, ports]) => {
    const sorted = ports.sort((a, b) => a - b);
    const first = sorted[0];
    const last = sorted[sorted.length - 1];
    return `${group} :${first === last ? first : `${first}-${last}`}`;
  });
  return `hosts on 127.0.0.1: ${groups.join(", ")}`;
}
