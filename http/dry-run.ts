import { BadRequestError } from "../domain/errors";
import type { ApiEvent } from "./api";

/** `?dryRun=true` asks a route what it would do, and records nothing; `false` or none does it. */
export function isDryRun(event: ApiEvent): boolean {
  const value = event.queryStringParameters?.dryRun;
  if (value === undefined || value === "false") return false;
  if (value === "true") return true;
  throw new BadRequestError(`dryRun is true or false, not "${value}"`);
}
