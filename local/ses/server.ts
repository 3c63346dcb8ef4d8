import { createServer, type Server } from "node:http";
import { AwsServiceError, readBody } from "../aws-json-server";
import type { InjectedError } from "../faults";
import type { LocalSes } from "./local-ses";

/**
 * SES v2's restJson1 wire for the one call Sluice makes, `POST /v2/email/outbound-emails`
 * (SendEmail), as the SDK and the AWS CLI send it. Errors carry their name in
 * `x-amzn-errortype` and the body, as SES's do.
 */
export function serveSes(
  ses: LocalSes,
  fault?: (operation: string) => InjectedError | undefined,
): Server {
  return createServer(async (req, res) => {
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(body));
    };
    try {
      const route = `${req.method} ${(req.url ?? "").split("?")[0]}`;
      const body = await readBody(req);
      if (route !== "POST /v2/email/outbound-emails") {
        throw new AwsServiceError(
          "NotFoundException",
          `the local SES serves SendEmail only, not ${route}`,
          404,
        );
      }
      const injected = fault?.("SendEmail");
      if (injected) {
        throw new AwsServiceError(
          injected.type,
          injected.message ?? "injected by a test",
          injected.status,
        );
      }
      let input: unknown;
      try {
        input = body.length ? JSON.parse(body) : {};
      } catch {
        throw new AwsServiceError("BadRequestException", "The request body is not valid JSON.");
      }
      reply(200, await ses.sendEmail(input));
    } catch (err) {
      const error =
        err instanceof AwsServiceError
          ? err
          : new AwsServiceError("InternalFailure", (err as Error).message, 500);
      reply(
        error.statusCode,
        { __type: error.type, message: error.message },
        { "x-amzn-errortype": error.type },
      );
    }
  });
}
