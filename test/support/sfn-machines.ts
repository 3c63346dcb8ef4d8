/** State machines of the Step Functions tests, written as serverless.yml's are (Fn::GetAtt). */
import { BUILD, BUILD_PROJECT, GATE } from "./sfn-stand-in";

const fn = (name: string) => ({ "Fn::GetAtt": [name, "Arn"] });

const askForAnswer = (extra: Record<string, unknown>) => ({
  Type: "Task",
  Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
  Parameters: {
    FunctionName: fn("record"),
    Payload: { "runId.$": "$.runId", "taskToken.$": "$$.Task.Token" },
  },
  ResultPath: "$.answer",
  ...extra,
});

export const MACHINES = {
  /** A callback whose SendTaskFailure with Rejected is retried once, then caught. */
  callback: {
    StartAt: "Ask",
    States: {
      Ask: askForAnswer({
        Retry: [{ ErrorEquals: ["Rejected"], MaxAttempts: 1, IntervalSeconds: 1 }],
        Catch: [{ ErrorEquals: ["States.TaskFailed"], ResultPath: "$.error", Next: "Handled" }],
        Next: "Done",
      }),
      Handled: { Type: "Pass", End: true },
      Done: { Type: "Succeed" },
    },
  },
  callbackWithHeartbeat: {
    StartAt: "Ask",
    States: { Ask: askForAnswer({ HeartbeatSeconds: 30, End: true }) },
  },
  /** A States.Timeout is not a States.TaskFailed: the Catch must let it through. */
  callbackWithTimeout: {
    StartAt: "Ask",
    States: {
      Ask: askForAnswer({
        TimeoutSeconds: 20,
        Catch: [{ ErrorEquals: ["States.TaskFailed"], ResultPath: "$.error", Next: "Handled" }],
        End: true,
      }),
      Handled: { Type: "Pass", End: true },
    },
  },
  callbackOfBoom: {
    StartAt: "Ask",
    States: {
      Ask: {
        ...askForAnswer({ End: true }),
        Parameters: { FunctionName: fn("boom"), Payload: { "taskToken.$": "$$.Task.Token" } },
      },
    },
  },
  /** A task held at a gate, with no TimeoutSeconds. */
  held: {
    StartAt: "Hold",
    States: { Hold: { Type: "Task", Resource: GATE, ResultPath: "$.held", End: true } },
  },
  heldWithTimeout: {
    StartAt: "Hold",
    States: { Hold: { Type: "Task", Resource: GATE, TimeoutSeconds: 60, End: true } },
  },
  heldWithPathTimeout: {
    StartAt: "Hold",
    States: {
      Hold: { Type: "Task", Resource: GATE, TimeoutSecondsPath: "$.timeout", End: true },
    },
  },
  /** The state machine's own TimeoutSeconds cuts a long Wait. */
  timesOut: {
    TimeoutSeconds: 30,
    StartAt: "Linger",
    States: { Linger: { Type: "Wait", Seconds: 3600, End: true } },
  },
  waits: {
    StartAt: "Pause",
    States: {
      Pause: { Type: "Wait", SecondsPath: "$.seconds", Next: "After" },
      After: { Type: "Task", Resource: fn("record"), End: true },
    },
  },
  waitsUntil: {
    StartAt: "Until",
    States: { Until: { Type: "Wait", TimestampPath: "$.until", End: true } },
  },
  /** The buildspec comes with the input, as the pipeline's Build state takes it. */
  build: {
    StartAt: "Build",
    States: {
      Build: {
        Type: "Task",
        Resource: BUILD,
        Parameters: { ProjectName: BUILD_PROJECT, "BuildspecOverride.$": "$.buildspec" },
        End: true,
      },
    },
  },
  /** A build cut by its TimeoutSeconds. */
  buildWithTimeout: {
    StartAt: "Build",
    States: {
      Build: {
        Type: "Task",
        Resource: BUILD,
        Parameters: { ProjectName: BUILD_PROJECT, "BuildspecOverride.$": "$.buildspec" },
        TimeoutSeconds: 2,
        End: true,
      },
    },
  },
  /** Fails at Flaky until a file exists; a redrive continues there. */
  flaky: {
    StartAt: "Count",
    States: {
      Count: { Type: "Task", Resource: fn("record"), ResultPath: null, Next: "Flaky" },
      Flaky: {
        Type: "Task",
        Resource: fn("failUntil"),
        Parameters: { "file.$": "$.file" },
        ResultPath: "$.flaky",
        Retry: [{ ErrorEquals: ["NotYet"], MaxAttempts: 1, IntervalSeconds: 3600 }],
        Next: "After",
      },
      After: { Type: "Task", Resource: fn("record"), End: true },
    },
  },
  /** Parallel, Choice, Pass and Fail states, and the execution's context. */
  branching: {
    StartAt: "Both",
    States: {
      Both: {
        Type: "Parallel",
        Branches: [
          {
            StartAt: "Left",
            States: { Left: { Type: "Task", Resource: fn("record"), End: true } },
          },
          {
            StartAt: "Rest",
            States: {
              Rest: { Type: "Wait", Seconds: 5, Next: "Right" },
              Right: { Type: "Pass", Result: { right: true }, End: true },
            },
          },
        ],
        ResultPath: "$.both",
        Next: "Pick",
      },
      Pick: {
        Type: "Choice",
        Choices: [{ Variable: "$.go", BooleanEquals: true, Next: "Tell" }],
        Default: "Refuse",
      },
      Tell: {
        Type: "Pass",
        Parameters: {
          "name.$": "$$.Execution.Name",
          "input.$": "$$.Execution.Input",
          "both.$": "$.both",
        },
        End: true,
      },
      Refuse: { Type: "Fail", Error: "Refused", Cause: "go was not true" },
    },
  },
  mapped: {
    StartAt: "Each",
    States: {
      Each: {
        Type: "Map",
        ItemsPath: "$.items",
        ItemProcessor: {
          StartAt: "Note",
          States: {
            Note: { Type: "Task", Resource: fn("record"), Next: "Breathe" },
            Breathe: { Type: "Wait", Seconds: 60, End: true },
          },
        },
        End: true,
      },
    },
  },
};

export type MachineName = keyof typeof MACHINES;

/** Only the named machines: each registration validates its ASL, which takes ~0.3 s. */
export function machines(...names: MachineName[]): Record<string, unknown> {
  return Object.fromEntries(names.map((name) => [name, MACHINES[name]]));
}
