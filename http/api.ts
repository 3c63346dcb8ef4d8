import middy from "@middy/core";
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";
import type { DecidedBy } from "../domain/approval-request";
import {
  BadRequestError,
  type ErrorKind,
  ForbiddenError,
  GoneError,
  isTransientAwsError,
  PayloadTooLargeError,
  RejectedError,
  SluiceError,
  UnauthorizedError,
} from "../domain/errors";
import { parseRequest } from "../domain/validation";
import type * as z from "../domain/zod";
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

/** A JSON body that may also be left out (read as `{}`). */
export function optionalJsonBody(event: ApiEvent): unknown {
  return bodyText(event).trim() === "" ? {} : jsonBody(event);
}

type AuthorizedContext = ApiEvent["requestContext"] & {
  authorizer?: {
    iam?: { userArn?: string; accessKey?: string };
    /** The claims of a JWT API Gateway's JWT authorizer checked (the people's `/api` routes). */
    jwt?: { claims?: Record<string, unknown> };
  };
};

/**
 * Who made the request, as API Gateway authorized it: a person signed in with the team's OIDC
 * provider (the `/api` routes' JWT authorizer) or an IAM principal (every other route but the
 * webhooks'). For a decision, the approval gate matches a person by email, a principal by ARN.
 */
export function callerOf(event: ApiEvent): Extract<DecidedBy, { via: "api" | "oidc" }> {
  const authorizer = (event.requestContext as AuthorizedContext).authorizer;
  const claims = authorizer?.jwt?.claims;
  if (claims) {
    const text = (name: string) =>
      typeof claims[name] === "string" && claims[name] !== "" ? claims[name] : undefined;
    const email = text("email");
    const sub = text("sub") ?? "unknown";
    return { via: "oidc", sub, ...(email ? { email } : {}) };
  }
  const iam = authorizer?.iam;
  return { via: "api", principal: iam?.userArn || iam?.accessKey || "anonymous" };
}

/** Who made the request, as recorded on what they did: the person's email (else sub) or the principal. */
export function actorOf(event: ApiEvent): string {
  const caller = callerOf(event);
  return caller.via === "api" ? caller.principal : (caller.email ?? caller.sub);
}

/** A path parameter, checked against its schema when it has one: a malformed one is a 400. */
export function pathParameter(
  event: ApiEvent,
  name: string,
  schema?: z.ZodMiniType<string>,
): string {
  const value = event.pathParameters?.[name];
  if (!value) throw new BadRequestError(`missing path parameter ${name}`);
  if (!schema) return value;
  return parseRequest(schema, `${name} "${value}"`, value);
}

const STATUS_OF_KIND: Record<ErrorKind, number> = {
  InvalidInput: 400,
  NotFound: 404,
  Conflict: 409,
  Rejected: 422,
  Locked: 409,
  Transient: 503,
};

/** The one place an error kind becomes an HTTP status. */
export function httpStatusOf(err: SluiceError): number {
  if (err instanceof UnauthorizedError) return 401;
  if (err instanceof PayloadTooLargeError) return 413;
  if (err instanceof ForbiddenError) return 403;
  if (err instanceof GoneError) return 410;
  return STATUS_OF_KIND[err.kind];
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
        const status = httpStatusOf(err);
        const answered = {
          status,
          reason: err.message,
          route: request.event.routeKey,
        };
        // A 5xx the caller may read about is still Sluice's failure: its cause goes to the log.
        if (status >= 500) logger.error("request failed", { ...answered, error: err.cause });
        // A 404 is what a caller polling for something yet to be is answered (sluice push waits
        // so for its bundle's release): at info, each poll would be a line in the log. A mistyped
        // name is a 404 too, and shows only at debug: the caller sees the message anyway.
        else if (status === 404) logger.debug("request refused", answered);
        else logger.info("request refused", answered);
        request.response = json(status, {
          message: err.message,
          ...(err instanceof RejectedError ? { code: err.code } : {}),
        });
        return;
      }
      const context = {
        error: err,
        route: request.event.routeKey,
        requestId: request.context.awsRequestId,
      };
      // Throttled, timed out, a service's 5xx: nothing was written, and the same request may
      // well go through in a moment, so the caller is told to try again.
      if (isTransientAwsError(err)) {
        logger.warn("request met a transient failure", context);
        request.response = json(503, {
          message: "a service Sluice relies on is unavailable or throttling; try again",
          requestId: request.context.awsRequestId,
        });
        return;
      }
      logger.error("request failed", context);
      request.response = json(500, {
        message: "internal error",
        requestId: request.context.awsRequestId,
      });
    },
  });
}
