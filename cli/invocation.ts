/**
 * How the person ran this CLI, so the commands it suggests can be pasted as they are: in a
 * checkout that is `npm run sluice --` (npm names the script it runs in npm_lifecycle_event),
 * installed it is `sluice`.
 */
export function invocation(env: NodeJS.ProcessEnv = process.env): string {
  return env.npm_lifecycle_event === "sluice" ? "npm run sluice --" : "sluice";
}
