import type { App } from "./app";

/** What a list of apps shows of each: its name, who changed it last, and its stages in brief. */
export interface AppSummary {
  name: string;
  createdAt: string;
  updatedAt: string;
  updatedBy?: string;
  executionMode: string;
  stages: { name: string; kind: "deploy" | "production" | "approval" | "wait"; waves?: number }[];
  approval: boolean;
}

export function appSummary(app: App): AppSummary {
  const stages = app.pipeline.stages.map((stage): AppSummary["stages"][number] => {
    if (stage.production) {
      return { name: stage.name, kind: "production", waves: stage.production.waves.length };
    }
    if (stage.approval) return { name: stage.name, kind: "approval" };
    if (stage.wait) return { name: stage.name, kind: "wait" };
    return { name: stage.name, kind: "deploy" };
  });
  return {
    name: app.name,
    createdAt: app.createdAt,
    updatedAt: app.updatedAt,
    ...(app.updatedBy ? { updatedBy: app.updatedBy } : {}),
    executionMode: app.pipeline.executionMode,
    stages,
    approval: stages.some((s) => s.kind === "approval"),
  };
}

/** The deployment groups an app's pipeline deploys to, each with the plan steps that do. */
export function deploymentGroupsOf(
  app: App,
): { application: string; deploymentGroup: string; steps: string[] }[] {
  const application = app.pipeline.codedeploy?.application ?? app.name;
  const groups = new Map<string, string[]>();
  const add = (group: string, step: string) =>
    groups.set(group, [...(groups.get(group) ?? []), step]);
  for (const stage of app.pipeline.stages) {
    if (stage.deploy) add(stage.deploy.deploymentGroup, stage.name);
    stage.production?.waves.forEach((wave, i) => {
      add(wave.deploymentGroup, `${stage.name}/${wave.name ?? `wave-${i + 1}`}`);
    });
  }
  return [...groups].map(([deploymentGroup, steps]) => ({ application, deploymentGroup, steps }));
}
