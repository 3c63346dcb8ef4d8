import { RunStatusSchema } from "../domain/run";
import { parseRequest } from "../domain/validation";
import * as z from "../domain/zod";
import type { ApiEvent } from "./api";

/** Page sizes a list answers: at least one, at most 100 (DynamoDB reads them in one query). */
export const MAX_PAGE_LIMIT = 100;
export const DEFAULT_PAGE_LIMIT = 50;

const LIMIT_RULE = `must be a whole number from 1 to ${MAX_PAGE_LIMIT}`;

const LimitSchema = z._default(
  z.pipe(
    z.pipe(z.string().check(z.regex(/^\d{1,3}$/, LIMIT_RULE)), z.transform(Number)),
    z.number().check(z.gte(1, LIMIT_RULE), z.lte(MAX_PAGE_LIMIT, LIMIT_RULE)),
  ),
  DEFAULT_PAGE_LIMIT,
);

/** `limit` and `cursor` of a paginated list. */
export const PageQuerySchema = z.strictObject({
  limit: LimitSchema,
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(4096))),
});

export const RunListQuerySchema = z.extend(PageQuerySchema, {
  status: z.optional(RunStatusSchema),
});

/**
 * The request's query parameters, checked against the route's schema: an unknown or malformed
 * one is a 400 that names it.
 */
export function queryParameters<T extends z.ZodMiniType>(event: ApiEvent, schema: T): z.infer<T> {
  return parseRequest(schema, "query parameter", event.queryStringParameters ?? {});
}
