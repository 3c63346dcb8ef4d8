import { describe, expect, it } from "vitest";
import { matchesPattern } from "../../local/event-pattern";

const statusChange = {
  source: "aws.states",
  "detail-type": "Step Functions Execution Status Change",
  resources: ["arn:aws:states:us-east-1:000000000000:execution:pipeline:01RUN"],
  detail: { status: "ABORTED", name: "01RUN" },
};
const pattern = {
  source: ["aws.states"],
  "detail-type": ["Step Functions Execution Status Change"],
  detail: { status: ["FAILED", "TIMED_OUT", "ABORTED"] },
};

describe("matchesPattern", () => {
  it("matches when every field holds one of its accepted values, nested fields too", () => {
    expect(matchesPattern(pattern, statusChange)).toBe(true);
  });

  it.each([
    ["another source", { ...statusChange, source: "sluice" }],
    ["a status the pattern does not list", { ...statusChange, detail: { status: "SUCCEEDED" } }],
    ["no detail at all", { source: "aws.states", "detail-type": statusChange["detail-type"] }],
  ])("does not match %s", (_, event) => {
    expect(matchesPattern(pattern, event)).toBe(false);
  });

  it("matches an array field of the event when any of its elements is accepted", () => {
    expect(matchesPattern({ resources: [statusChange.resources[0]] }, statusChange)).toBe(true);
    expect(matchesPattern({ resources: ["arn:other"] }, statusChange)).toBe(false);
  });

  it("matches nothing for content filters it does not know, rather than everything", () => {
    expect(matchesPattern({ source: [{ numeric: [">", 0] }] }, statusChange)).toBe(false);
    expect(matchesPattern({ source: [{ "anything-but": "sluice" }] }, statusChange)).toBe(false);
  });

  it("matches a prefix filter on strings that start with it, and only those", () => {
    const outbox = { dynamodb: { Keys: { sk: { S: [{ prefix: "EVENT#" }] } } } };

    expect(matchesPattern(outbox, { dynamodb: { Keys: { sk: { S: "EVENT#01ABC" } } } })).toBe(true);
    expect(matchesPattern(outbox, { dynamodb: { Keys: { sk: { S: "RUN" } } } })).toBe(false);
  });
});
