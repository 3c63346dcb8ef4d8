import { InvalidArgumentError } from "commander";
import { CliError } from "./errors";

// Options' values read as what they stand for; commander names the option a bad value was for.

export function seconds(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0)
    throw new InvalidArgumentError("a number of seconds");
  return parsed;
}

export function count(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0)
    throw new InvalidArgumentError("a whole number above 0");
  return parsed;
}

export /** `30d`, `2w`, `12h` as milliseconds. */
function ageMs(age: string): number {
  const match = /^(\d+)([hdw])$/.exec(age);
  if (!match) throw new CliError(`--since takes an age such as 30d, 2w or 12h, not "${age}"`);
  const hours = { h: 1, d: 24, w: 24 * 7 }[match[2] as "h" | "d" | "w"];
  return Number(match[1]) * hours * 3600 * 1000;
}
