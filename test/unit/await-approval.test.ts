import { beforeEach, describe, expect, it } from "vitest";
import type { ApprovalRequest } from "../../domain/approval-request";
import type { ApprovalLink } from "../../domain/ports";
import { type ApprovalTaskPorts, awaitApproval, decide } from "../../usecases/approval";
import { nextStep } from "../../usecases/next-step";
import { memoryPorts, registerApp, startRun } from "../support/fakes";

let ports: ReturnType<typeof memoryPorts>;
let sent: ApprovalRequest[];
let links: ApprovalLink[];
let onSend: (request: ApprovalRequest) => Promise<void>;

function taskPorts(): ApprovalTaskPorts {
  return {
    ...ports,
    links: {
      issue: async (issued) => void links.push(...issued),
      get: async (hash) => links.find((l) => l.tokenHash === hash),
    },
    linkKey: { key: async () => Buffer.alloc(32, 1) },
    notifier: {
      request: async (request) => {
        sent.push(request);
        await onSend(request);
      },
    },
    publicUrl: "https://sluice.example.com",
  };
}

beforeEach(() => {
  ports = memoryPorts();
  sent = [];
  links = [];
  onSend = async () => {};
});

/** A run of an app whose approval needs `required` of ana and bo, in its approval step. */
async function atApproval(required: number) {
  const app = await registerApp(ports.apps, {
    stages: [
      {
        name: "sign-off",
        approval: {
          approvers: [
            { email: "ana@example.com", iam: "arn:aws:iam::123456789012:user/ana" },
            { email: "bo@example.com" },
          ],
          requiredApprovals: required,
        },
      },
    ],
  });
  const run = await startRun(ports, app, { type: "git", commit: "a".repeat(40) }, { type: "api" });
  const source = await nextStep(ports, { runId: run.id, step: null });
  const { step } = await nextStep(ports, {
    runId: run.id,
    step: source.step,
    result: { type: "git", commit: "a".repeat(40) },
  });
  if (step.kind !== "approval") throw new Error(`expected an approval, got ${step.kind}`);
  return { runId: run.id, index: step.index, attempt: step.attempt };
}

/** Ana's approval arrives while the request is going out, as a link clicked the moment it lands. */
function anaApprovesWhileSent(runId: string) {
  onSend = async () => {
    await decide(
      ports,
      runId,
      { via: "api", principal: "arn:aws:iam::123456789012:user/ana" },
      "approve",
    );
  };
}

describe("the approval task", () => {
  it("sends one request with a personal link per approver, and run again sends nothing", async () => {
    const at = await atApproval(1);

    await awaitApproval(taskPorts(), { ...at, taskToken: "token-1" });
    await awaitApproval(taskPorts(), { ...at, taskToken: "token-2" });

    expect(sent).toHaveLength(1);
    expect(sent[0]?.links.map((l) => l.email)).toEqual(["ana@example.com", "bo@example.com"]);
    expect(sent[0]?.links[0]?.url).toMatch(
      /^https:\/\/sluice\.example\.com\/approvals\/[\w-]{43}\.[\w-]{22}$/,
    );
    expect(links).toHaveLength(2);
    expect(JSON.stringify(links)).not.toContain(sent[0]?.links[0]?.url.split("/").at(-1));
    expect(await ports.runs.taskToken(at.runId, at.index, at.attempt)).toBe("token-2");
    expect(ports.runs.outbox.filter((e) => e.detailType === "Approval Requested")).toHaveLength(1);
  });

  it("keeps a vote cast while its request goes out, and still records the request as sent", async () => {
    const at = await atApproval(2);
    anaApprovesWhileSent(at.runId);

    await awaitApproval(taskPorts(), { ...at, taskToken: "token-1" });

    const step = (await ports.runs.get(at.runId))?.steps.find((s) => s.kind === "approval");
    expect(step?.votes?.map((v) => v.by)).toEqual(["ana@example.com"]);
    expect(step?.request).toMatchObject({ generation: 1, links: 2, sentAt: expect.any(String) });
    expect(sent).toHaveLength(1);
  });

  it("records the request as sent and announces it when a vote decides the approval meanwhile", async () => {
    const at = await atApproval(1);
    anaApprovesWhileSent(at.runId);

    await awaitApproval(taskPorts(), { ...at, taskToken: "token-1" });

    const step = (await ports.runs.get(at.runId))?.steps.find((s) => s.kind === "approval");
    expect(step?.approval).toMatchObject({ decision: "approve" });
    expect(step?.request).toMatchObject({ generation: 1, sentAt: expect.any(String) });
    expect(ports.runs.outbox.filter((e) => e.detailType === "Approval Requested")).toHaveLength(1);
  });
});
