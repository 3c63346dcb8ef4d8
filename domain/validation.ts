import { BadRequestError } from "./errors";
import type * as z from "./zod";

/** One line a person can act on: "what: path: problem; path: problem". */
export function formatIssues(what: string, error: z.core.$ZodError): string {
  const problems = error.issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  return `invalid ${what}: ${problems.join("; ")}`;
}

/** `value` as `schema` reads it; a BadRequestError with every problem when it does not fit. */
export function parseRequest<T extends z.ZodMiniType>(
  schema: T,
  what: string,
  value: unknown,
): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new BadRequestError(formatIssues(what, parsed.error));
  return parsed.data;
}
