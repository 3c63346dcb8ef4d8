/**
 * Whether an event matches an EventBridge event pattern, for the patterns serverless.yml uses:
 * each field of the pattern lists the values it accepts, and a nested object matches the
 * event's nested object field by field. Of the content filters, `prefix` is known (the outbox's
 * stream filter uses it); the others (numeric, exists, anything-but...) match nothing, so a
 * pattern that uses one is noticed rather than over-matched.
 */
export function matchesPattern(pattern: Record<string, unknown>, event: unknown): boolean {
  if (!event || typeof event !== "object") return false;
  const fields = event as Record<string, unknown>;
  return Object.entries(pattern).every(([name, accepted]) => {
    const value = fields[name];
    // An array in the event matches when any of its elements does, as in EventBridge.
    if (Array.isArray(accepted)) {
      const values = Array.isArray(value) ? value : [value];
      return values.some((v) => accepted.some((candidate) => accepts(candidate, v)));
    }
    if (accepted && typeof accepted === "object") {
      return matchesPattern(accepted as Record<string, unknown>, value);
    }
    return false;
  });
}

function accepts(candidate: unknown, value: unknown): boolean {
  if (candidate && typeof candidate === "object") {
    const { prefix, ...rest } = candidate as Record<string, unknown>;
    return (
      typeof prefix === "string" &&
      Object.keys(rest).length === 0 &&
      typeof value === "string" &&
      value.startsWith(prefix)
    );
  }
  return candidate === value;
}
