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
        if (target.kind === "integration") expect(INTEGRATIONS.has(target.resource)).toBe(true);
        else expect(config.functions.has(target.name)).toBe(true);
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

describe("bindTasks", () => {
  const callback = (functionName: unknown) => ({
    StartAt: "Ask",
    States: {
      Ask: {
        Type: "Task",
        Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
        Parameters: {
          FunctionName: functionName,
          Payload: { "taskToken.$": "$$.Task.Token" },
        },
        End: true,
      },
    },
  });
  const someFunction = [...config.functions.keys()][0] ?? "";

  it("binds a waitForTaskToken callback to the function its FunctionName names", () => {
    const { definition, tasks } = bindTasks(
      callback({ "Fn::GetAtt": [someFunction, "Arn"] }),
      arnOf,
      INTEGRATIONS,
    );

    expect(tasks.get("Ask")).toEqual({
      kind: "lambda-invoke",
      name: someFunction,
      resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
      callback: true,
    });
    expect(JSON.stringify(definition)).toContain(`"FunctionName":"${arnOf(someFunction)}"`);
    expect(validate(definition).errors).toEqual([]);
  });

  it("refuses a callback whose function serverless.yml lacks, or is chosen at run time", () => {
    expect(() =>
      bindTasks(callback({ "Fn::GetAtt": ["ghost", "Arn"] }), arnOf, INTEGRATIONS),
    ).toThrow(/names no function/);
    const dynamic = callback(undefined);
    const ask = dynamic.States.Ask as { Parameters: Record<string, unknown> };
    ask.Parameters = { "FunctionName.$": "$.fn", Payload: {} };
    expect(() => bindTasks(dynamic, arnOf, INTEGRATIONS)).toThrow(/chosen at run time/);
  });

  it("refuses a resource it knows nothing of", () => {
    const raw = {
      StartAt: "A",
      States: { A: { Type: "Task", Resource: "arn:aws:states:::sqs:sendMessage", End: true } },
    };

    expect(() => bindTasks(raw, arnOf, INTEGRATIONS)).toThrow(
      /names no function or known integration/,
    );
  });
});
