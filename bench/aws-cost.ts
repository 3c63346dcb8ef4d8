/** List prices (us-east-1) the bench prices a run at. */
export const PRICES = {
  /** Step Functions standard workflows, per state transition. */
  transition: 0.025 / 1000,
  /** Lambda on arm64 (serverless.yml's architecture), per GB-second, billed per 1 ms. */
  arm64GbSecond: 0.0000133334,
  /** Lambda, per request. */
  request: 0.2 / 1_000_000,
  /** CodePipeline V2, per action-minute; manual approvals are not billed. */
  actionMinute: 0.002,
};

/** serverless.yml's memorySize for every function. */
const MEMORY_GB = 512 / 1024;

export function stepFunctionsCost(transitions: number): number {
  return transitions * PRICES.transition;
}

/** Requests plus compute: each invocation's duration rounded up to the millisecond. */
export function lambdaCost(durationsMs: readonly number[]): number {
  const gbSeconds = durationsMs.reduce((sum, ms) => sum + Math.ceil(ms) / 1000, 0) * MEMORY_GB;
  return durationsMs.length * PRICES.request + gbSeconds * PRICES.arm64GbSecond;
}

/** Each action's duration rounded up to whole minutes, as CodePipeline V2 bills them. */
export function actionMinutes(durationsMs: readonly number[]): number {
  return durationsMs.reduce((sum, ms) => sum + Math.max(1, Math.ceil(ms / 60_000)), 0);
}

export function dollars(amount: number): string {
  return `$${amount.toFixed(amount < 0.01 ? 6 : 4)}`;
}
