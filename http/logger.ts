/**
 * Structured logs: one JSON object a line, keys beside the message rather than inside it,
 * so CloudWatch Logs Insights (or `jq` locally) can filter on them.
 */
type Level = "debug" | "info" | "warn" | "error";
const LEVELS: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function threshold(): number {
  const configured = (process.env.LOG_LEVEL ?? "info").toLowerCase();
  return LEVELS[configured as Level] ?? LEVELS.info;
}

function write(level: Level, message: string, keys: Record<string, unknown>): void {
  if (LEVELS[level] < threshold()) return;
  const line = JSON.stringify(
    { level, message, time: new Date().toISOString(), ...keys },
    (_k, v) => (v instanceof Error ? { name: v.name, message: v.message, stack: v.stack } : v),
  );
  if (LEVELS[level] >= LEVELS.warn) process.stderr.write(`${line}\n`);
  else process.stdout.write(`${line}\n`);
}

export const logger = {
  debug: (message: string, keys: Record<string, unknown> = {}) => write("debug", message, keys),
  info: (message: string, keys: Record<string, unknown> = {}) => write("info", message, keys),
  warn: (message: string, keys: Record<string, unknown> = {}) => write("warn", message, keys),
  error: (message: string, keys: Record<string, unknown> = {}) => write("error", message, keys),
};
