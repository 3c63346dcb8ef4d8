import middy from "@middy/core";
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";
import type { z } from "zod";
import { BadRequestError, SluiceError } from "../domain/errors";
import { formatIssues } from "../domain/validation";
import { logger } from "./logger";

export type ApiEvent = APIGatewayProxyEventV2;
export type ApiResult = APIGatewayProxyStructuredResultV2;

export function json(statusCode: number, body: unknown): ApiResult {
  return {
    statusCode,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  };
}

export function bodyText(event: ApiEvent): string {
  if (event.body === undefined) return "";
  return event.isBase64Encoded ? Buffer.from(event.body, "base64").toString("utf8") : event.body;
}

export function jsonBody(event: ApiEvent): unknown {
  const text = bodyText(event);
  if (text.trim() === "") throw new BadRequestError("request body is empty: send a JSON object");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BadRequestError(`request body is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** A path parameter, checked against its schema when it has one: a malformed one is a 400. */
export function pathParameter(event: ApiEvent, name: string, schema?: z.ZodType<string>): string {
  const value = event.pathParameters?.[name];
  if (!value) throw new BadRequestError(`missing path parameter ${name}`);
  if (!schema) return value;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new BadRequestError(formatIssues(`${name} "${value}"`, parsed.error));
  return parsed.data;
}

/**
 * Wraps an HTTP API handler: a SluiceError becomes its status with `{ message }`; anything else
 * is logged with the request id and answered as a bare 500, so internals never reach a client.
 */
export function apiHandler(
  handle: (event: ApiEvent, context: Context) => Promise<ApiResult>,
): middy.MiddyfiedHandler<ApiEvent, ApiResult> {
  return middy<ApiEvent, ApiResult>(handle).use({
    onError: async (request) => {
      const err = request.error;
      if (err instanceof SluiceError && err.expose) {
        const answered = {
          status: err.statusCode,
          reason: err.message,
          route: request.event.routeKey,
        };
        // A 5xx the caller may read about is still Sluice's failure: its cause goes to the log.
        if (err.statusCode >= 500)
          logger.error("request failed", { ...answered, error: err.cause });
        else logger.info("request refused", answered);
        request.response = json(err.statusCode, { message: err.message });
        return;
      }
      logger.error("request failed", {
        error: err,
        route: request.event.routeKey,
        requestId: request.context.awsRequestId,
      });
      request.response = json(500, {
        message: "internal error",
        requestId: request.context.awsRequestId,
      });
    },
  });
}
