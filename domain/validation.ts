import type * as z from "./zod";

/** One line a person can act on: "what: path: problem; path: problem". */
export function formatIssues(what: string, error: z.core.$ZodError): string {
  const problems = error.issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  return `invalid ${what}: ${problems.join("; ")}`;
}
