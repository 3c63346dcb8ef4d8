/** An item as DynamoDB's JSON protocol spells it: attribute name → `{ S: "…" }`, `{ N: "…" }`, … */
export type Item = Record<string, AttributeValue>;
export type AttributeValue = Record<string, unknown>;

/** Whether two images hold the same data, whatever order their maps were written in. */
export function sameItem(a: Item | undefined, b: Item | undefined): boolean {
  if (!a || !b) return a === b;
  return canonical(a) === canonical(b);
}

export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([x], [y]) =>
      x < y ? -1 : x > y ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The attributes named, taken from an item (its key, say). */
export function pick(item: Item, names: readonly string[]): Item {
  const picked: Item = {};
  for (const name of names) {
    const value = item[name];
    if (value) picked[name] = value;
  }
  return picked;
}

/** Roughly DynamoDB's item size: attribute names plus their values, as Streams' SizeBytes counts. */
export function itemSize(item: Item | undefined): number {
  if (!item) return 0;
  let size = 0;
  for (const [name, value] of Object.entries(item))
    size += Buffer.byteLength(name) + valueSize(value);
  return size;
}

function valueSize(value: AttributeValue): number {
  const [type, inner] = Object.entries(value)[0] ?? [];
  switch (type) {
    case "S":
      return Buffer.byteLength(String(inner));
    case "N":
      return Math.ceil(String(inner).replace(/[-.]/g, "").length / 2) + 1;
    case "B":
      return Buffer.from(String(inner), "base64").length;
    case "SS":
    case "NS":
    case "BS":
      return (inner as unknown[]).reduce<number>(
        (sum, member) => sum + valueSize({ [type.slice(0, 1)]: member }),
        0,
      );
    case "L":
      return 3 + (inner as AttributeValue[]).reduce<number>((sum, v) => sum + 1 + valueSize(v), 0);
    case "M":
      return 3 + itemSize(inner as Item);
    default:
      return 1;
  }
}
