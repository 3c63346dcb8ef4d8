/**
 * Whether an event matches an EventBridge event pattern, for the patterns serverless.yml uses:
 * each field of the pattern lists the values it accepts, and a nested object matches the
 * event's nested object field by field. Content filters (prefix, numeric, exists) are not
 * needed yet and match nothing, so a pattern that uses one is noticed rather than over-matched.
 */
export function matchesPattern(pattern: Record<string, unknown>, event: unknown): boolean {
  if (!event || typeof event !== "object") return false;
  const fields = event as Record<string, unknown>;
  return Object.entries(pattern).every(([name, accepted]) => {
    const value = fields[name];
    // An array in the event matches when any of its elements does, as in EventBridge.
    if (Array.isArray(accepted)) {
      const values = Array.isArray(value) ? value : [value];
      return values.some((v) => accepted.some((candidate) => candidate === v));
    }
    if (accepted && typeof accepted === "object") {
      return matchesPattern(accepted as Record<string, unknown>, value);
    }
    return false;
  });
}
