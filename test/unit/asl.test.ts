import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { bindTasks } from "../../local/asl";
import { loadServerlessConfig } from "../../local/serverless-config";
import { PROJECT_ROOT } from "../../local/stack";

type Validate = (definition: unknown) => { isValid: boolean; errors: unknown[] };
const validate = createRequire(import.meta.url)("asl-validator") as Validate;

const config = await loadServerlessConfig(PROJECT_ROOT);
const INTEGRATIONS = new Set(["arn:aws:states:::codebuild:startBuild.sync"]);
const arnOf = (fn: string) =>
  config.functions.has(fn) ? `arn:aws:lambda:us-east-1:123456789012:function:${fn}` : undefined;

describe("state machines in statemachines/", () => {
  it("declares at least the pipeline", () => {
    expect([...config.stateMachines.keys()]).toContain("pipeline");
  });

  it.each([...config.stateMachines])("%s is valid Amazon States Language", (_name, raw) => {
    const { definition } = bindTasks(raw, arnOf, INTEGRATIONS);

    const result = validate(definition);

    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it.each([...config.stateMachines])(
    "%s calls only functions serverless.yml declares and integrations the local stack runs",
    (_name, raw) => {
      const { tasks } = bindTasks(raw, arnOf, INTEGRATIONS);

      expect(tasks.size).toBeGreaterThan(0);
      for (const target of tasks.values()) {
        if (target.kind === "function") expect(config.functions.has(target.name)).toBe(true);
        else expect(INTEGRATIONS.has(target.resource)).toBe(true);
      }
    },
  );
});

describe("the validator", () => {
  it("catches a transition to a state that does not exist", () => {
    const result = validate({
      StartAt: "A",
      States: { A: { Type: "Pass", Next: "Nowhere" } },
    });

    expect(result.isValid).toBe(false);
  });

  it("refuses a task naming a function serverless.yml lacks", () => {
    const raw = {
      StartAt: "A",
      States: { A: { Type: "Task", Resource: { "Fn::GetAtt": ["ghost", "Arn"] }, End: true } },
    };

    expect(() => bindTasks(raw, arnOf, INTEGRATIONS)).toThrow(/names no function/);
  });
});
