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
const VALUES = "ExpressionAttributeValues";
const PARSED = ["_updates", "_condition", "_keyCondition", "_filter", "_projection"] as const;
const MAX_ENTRIES = 1000;
/** After this many calls, each with new values, an expression's values are no longer looked up. */
const MISSES_BEFORE_GIVING_UP = 16;

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
 * actions work on them. Requests whose trees hold anything but plain data, and expressions whose
 * values are new at nearly every call (a whole item, a time), are parsed each time.
 */
export function cacheDynaliteExpressions(): void {
  if (installed) return;
  installed = true;
  const validations = createRequire(import.meta.url)("dynalite/validations") as DynaliteValidations;
  const validate = validations.validateExpressions.bind(validations);
  const parsed = new Map<string, Parsed>();
  // By the expressions and names alone: how often their values were new, and whether ever not.
  const shapes = new Map<string, { misses: number; hit: boolean }>();
  validations.validateExpressions = (data) => {
    const shapeKey = JSON.stringify(
      READS.map((field) => (VALUES === field ? 0 : (data[field] ?? null))),
    );
    let shape = shapes.get(shapeKey);
    if (!shape) {
      if (shapes.size >= MAX_ENTRIES) shapes.clear();
      shape = { misses: 0, hit: false };
      shapes.set(shapeKey, shape);
    }
    if (!shape.hit && shape.misses >= MISSES_BEFORE_GIVING_UP) return validate(data);
    const key = `${shapeKey}${JSON.stringify(data[VALUES] ?? null)}`;
    const known = parsed.get(key);
    if (known) {
      shape.hit = true;
      for (const [field, tree] of Object.entries(known.trees)) data[field] = copyTree(tree);
      return known.message;
    }
    shape.misses++;
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
