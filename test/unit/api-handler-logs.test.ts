import type { Context } from "aws-lambda";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  type SluiceError,
} from "../../domain/errors";
import { type ApiEvent, apiHandler } from "../../http/api";

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** The status answered for a handler that throws `err`, and the log lines written at info. */
async function refused(err: SluiceError) {
  vi.stubEnv("LOG_LEVEL", "info");
  const lines: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  const handler = apiHandler(async () => {
    throw err;
  });
  const event = { routeKey: "GET /apps/{app}/bundles/{version}" } as ApiEvent;
  const answer = await handler(event, {} as Context);
  return { status: answer.statusCode, logged: lines.map((line) => JSON.parse(line)) };
}

describe("what the API logs of a refused request", () => {
  it("leaves a 404 out of the info log, as sluice push polls for its bundle's release", async () => {
    const { status, logged } = await refused(new NotFoundError("no bundle has been received"));

    expect(status).toBe(404);
    expect(logged).toEqual([]);
  });

  it("logs other refusals at info, with their status, reason and route", async () => {
    for (const [err, status] of [
      [new ConflictError("it is settled already"), 409],
      [new ForbiddenError("not an approver"), 403],
    ] as const) {
      const answer = await refused(err);

      expect(answer.status).toBe(status);
      expect(answer.logged).toEqual([
        expect.objectContaining({
          level: "info",
          message: "request refused",
          status,
          reason: err.message,
          route: "GET /apps/{app}/bundles/{version}",
        }),
      ]);
    }
  });
});
