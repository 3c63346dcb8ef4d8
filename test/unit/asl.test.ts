import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { bindFunctionArns } from "../../local/asl";
import { loadServerlessConfig } from "../../local/serverless-config";
import { PROJECT_ROOT } from "../../local/stack";

type Validate = (definition: unknown) => { isValid: boolean; errors: unknown[] };
const validate = createRequire(import.meta.url)("asl-validator") as Validate;

const config = await loadServerlessConfig(PROJECT_ROOT);
const arnOf = (fn: string) =>
  config.functions.has(fn) ? `arn:aws:lambda:us-east-1:123456789012:function:${fn}` : undefined;

describe("state machines in statemachines/", () => {
  it("declares at least the pipeline", () => {
    expect([...config.stateMachines.keys()]).toContain("pipeline");
  });

  it.each([...config.stateMachines])("%s is valid Amazon States Language", (_name, raw) => {
    const { definition } = bindFunctionArns(raw, arnOf);

    const result = validate(definition);

    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it.each([...config.stateMachines])(
    "%s calls only functions serverless.yml declares",
    (_name, raw) => {
      const { tasks } = bindFunctionArns(raw, arnOf);

      expect(tasks.size).toBeGreaterThan(0);
      for (const fn of tasks.values()) expect(config.functions.has(fn)).toBe(true);
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

    expect(() => bindFunctionArns(raw, arnOf)).toThrow(/names no function/);
  });
});
