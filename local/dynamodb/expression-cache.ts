import { createRequire } from "node:module";

type Data = Record<string, unknown>;

interface DynaliteValidations {
  validateExpressions(data: Data): string | undefined;
}

/** What validateExpressions reads, and the parse trees it leaves on the request. */
const READS = [
  "UpdateExpression",
  "ConditionExpression",
  "KeyConditionExpression",
  "FilterExpression",
  "ProjectionExpression",
  "ExpressionAttributeNames",
  "ExpressionAttributeValues",
] as const;
const PARSED = ["_updates", "_condition", "_keyCondition", "_filter", "_projection"] as const;
const MAX_ENTRIES = 1000;

interface Parsed {
  message: string | undefined;
  trees: Partial<Record<(typeof PARSED)[number], unknown>>;
}

class Uncacheable extends Error {}

/** A copy of a parse tree: arrays, plain and prototype-less objects (which dynalite's use). */
function copyTree(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(copyTree);
  const prototype = Object.getPrototypeOf(value) as object | null;
  if (prototype !== null && prototype !== Object.prototype) throw new Uncacheable();
  const copy = Object.create(prototype) as Record<string, unknown>;
  for (const [key, field] of Object.entries(value)) copy[key] = copyTree(field);
  return copy;
}

let installed = false;

/**
 * Makes dynalite parse each distinct set of expressions (with their attribute names and values)
 * once: its PEG parsers took a tenth of a conditional write, and Sluice sends the same few
 * expressions again and again. Each request gets its own copy of the trees, since dynalite's
 * actions work on them; requests whose trees hold anything but plain data are parsed each time.
 */
export function cacheDynaliteExpressions(): void {
  if (installed) return;
  installed = true;
  const validations = createRequire(import.meta.url)("dynalite/validations") as DynaliteValidations;
  const validate = validations.validateExpressions.bind(validations);
  const parsed = new Map<string, Parsed>();
  validations.validateExpressions = (data) => {
    const key = JSON.stringify(READS.map((field) => data[field] ?? null));
    const known = parsed.get(key);
    if (known) {
      for (const [field, tree] of Object.entries(known.trees)) data[field] = copyTree(tree);
      return known.message;
    }
    const message = validate(data);
    try {
      const trees: Parsed["trees"] = {};
      for (const field of PARSED) if (field in data) trees[field] = copyTree(data[field]);
      if (parsed.size >= MAX_ENTRIES) parsed.clear();
      parsed.set(key, { message, trees });
    } catch (err) {
      if (!(err instanceof Uncacheable)) throw err;
    }
    return message;
  };
}
