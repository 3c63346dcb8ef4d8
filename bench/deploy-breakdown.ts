import type { LocalCodeDeploy } from "../local/codedeploy/local-codedeploy";
import type { Deployment, LifecycleEventName } from "../local/codedeploy/store";

/**
 * Where a deploy run's time goes, from the stand-in's own records (its times are in seconds
 * with millisecond precision): before the first deployment, each deployment from its creation
 * to its end split into its start (the revision fetched), its hosts and its end, the gaps
 * between deployments (the events back to Sluice, the state machine, the next task), and what
 * comes after the last one. Every figure is in ms from the S3 upload.
 */
export interface Breakdown {
  beforeFirst: number;
  deployments: DeploymentTimes[];
  /** Between one deployment's end and the next one's creation, in order. */
  gaps: number[];
  afterLast: number;
  /** Summed over every host of every deployment, by lifecycle event. */
  byEvent: Map<LifecycleEventName, number>;
  /** Summed over every host: its span less its lifecycle events (the stand-in between them). */
  betweenEvents: number;
  hosts: number;
}

export interface DeploymentTimes {
  group: string;
  /** Created to the first host's first lifecycle event. */
  start: number;
  /** The first host's first lifecycle event to the last host's last one. */
  hosts: number;
  /** The last host's last lifecycle event to the deployment's end. */
  end: number;
  total: number;
}

const ms = (seconds: number | undefined) => (seconds ?? Number.NaN) * 1000;

export function breakdown(
  codeDeploy: LocalCodeDeploy,
  deploymentIds: readonly string[],
  uploadedAt: number,
  endedAt: number,
): Breakdown {
  const deployments = deploymentIds
    .map((id) => codeDeploy.deployment(id))
    .sort((a, b) => a.createTime - b.createTime);
  const byEvent = new Map<LifecycleEventName, number>();
  let betweenEvents = 0;
  let hosts = 0;
  const times = deployments.map((d) => {
    const events = Object.values(d.targets).flatMap((t) => t.lifecycleEvents);
    for (const target of Object.values(d.targets)) {
      const timed = target.lifecycleEvents.filter((e) => e.startTime && e.endTime);
      if (!timed.length) continue;
      hosts++;
      let inEvents = 0;
      for (const e of timed) {
        const took = ms(e.endTime) - ms(e.startTime);
        inEvents += took;
        byEvent.set(e.lifecycleEventName, (byEvent.get(e.lifecycleEventName) ?? 0) + took);
      }
      const span =
        Math.max(...timed.map((e) => ms(e.endTime))) -
        Math.min(...timed.map((e) => ms(e.startTime)));
      betweenEvents += span - inEvents;
    }
    const firstStart = Math.min(...events.flatMap((e) => (e.startTime ? [ms(e.startTime)] : [])));
    const lastEnd = Math.max(...events.flatMap((e) => (e.endTime ? [ms(e.endTime)] : [])));
    return {
      group: d.deploymentGroupName,
      start: firstStart - ms(d.createTime),
      hosts: lastEnd - firstStart,
      end: ms(d.completeTime) - lastEnd,
      total: ms(d.completeTime) - ms(d.createTime),
    };
  });
  const first = deployments[0] as Deployment | undefined;
  const last = deployments.at(-1);
  return {
    beforeFirst: ms(first?.createTime) - uploadedAt,
    deployments: times,
    gaps: deployments.slice(1).map((d, i) => ms(d.createTime) - ms(deployments[i]?.completeTime)),
    afterLast: endedAt - ms(last?.completeTime),
    byEvent,
    betweenEvents,
    hosts,
  };
}

/** What the breakdown is set against: the run's transitions and the script's time. */
export interface Against {
  transitions: number;
  scriptMs: number;
  /** Turns of hosts the targets take, one after another: a host, or as many as run at once. */
  hostSlots: number;
}

export function printBreakdown(
  b: Breakdown,
  label: (name: string) => string,
  against: Against,
): void {
  const f = (n: number) => `${n.toFixed(0)} ms`;
  const inDeployments = b.deployments.reduce((sum, d) => sum + d.total, 0);
  const gaps = b.gaps.reduce((sum, g) => sum + g, 0);
  const around = b.beforeFirst + gaps + b.afterLast;
  const onHosts = b.deployments.reduce((sum, d) => sum + d.hosts, 0);
  console.log(`${label("breakdown of the median run")}`);
  console.log(`${label("  upload → first deployment")} ${f(b.beforeFirst)}`);
  b.deployments.forEach((d, i) => {
    console.log(
      `${label(`  ${d.group}`)} ${f(d.total)} in CodeDeploy: start ${f(d.start)}, hosts ${f(d.hosts)}, end ${f(d.end)}`,
    );
    const gap = b.gaps[i];
    if (gap !== undefined) console.log(`${label("    → next deployment")} ${f(gap)}`);
  });
  console.log(`${label("  last deployment → run end")} ${f(b.afterLast)}`);
  console.log(
    `${label("  in CodeDeploy / around it")} ${f(inDeployments)} / ${f(around)} (before, between and after the deployments)`,
  );
  console.log(
    `${label("  around it, per state transition")} ${(around / against.transitions).toFixed(1)} ms  (${against.transitions} transitions: Sluice's Lambdas, Step Functions, the bus and the local DynamoDB)`,
  );
  const perSlot = (n: number) => `${(n / against.hostSlots).toFixed(1)} ms`;
  console.log(
    `${label("  hosts, per turn of hosts")} ${perSlot(onHosts)} in CodeDeploy, ${perSlot(against.scriptMs)} in the script  (${against.hostSlots} turns: a host, or as many as run at once)`,
  );
  const perHost = (n: number) => (n / Math.max(b.hosts, 1)).toFixed(1);
  const events = [...b.byEvent].map(([name, n]) => `${name} ${perHost(n)}`).join(", ");
  console.log(
    `${label("  per host, mean ms")} ${events}; between events ${perHost(b.betweenEvents)}  (${b.hosts} hosts)`,
  );
}
