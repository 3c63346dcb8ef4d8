/** An AWS error a stand-in answers instead of doing the call. */
export interface InjectedError {
  /** The `__type` the SDK rebuilds the error from, e.g. ProvisionedThroughputExceededException. */
  type: string;
  /** 400 for throttling, 500 or 503 for a service failure. */
  status: number;
  message?: string;
}

export interface FaultRule {
  /** The stand-in, by its name on the stack: dynamodb, eventBridge, stepFunctions, ... */
  service: string;
  /** Which calls fail: an operation name, or a pattern of names; every call when left out. */
  operation?: string | RegExp;
  /** How many calls fail, one after the other. */
  times: number;
  error: InjectedError;
  /** Only calls after this one (e.g. Step Functions' StartExecution) fail. */
  after?: { service: string; operation: string };
}

interface ArmedRule extends FaultRule {
  armed: boolean;
}

/**
 * Failures a test asks the local stand-ins to answer with, as AWS answers a throttled or
 * failing call: the stand-in's server asks before each call. Through the same wire as the real
 * failure, so the SDK's own retries, the pipeline's Retry and the stream's redelivery all run.
 */
export class FaultInjector {
  private readonly rules: ArmedRule[] = [];
  /** Calls answered with an injected error, by `service:operation`, for tests to check. */
  readonly injected: string[] = [];

  inject(rule: FaultRule): void {
    this.rules.push({ ...rule, armed: !rule.after });
  }

  /** Forgets every rule and what was injected. */
  clear(): void {
    this.rules.length = 0;
    this.injected.length = 0;
  }

  /** The error to answer this call with, if a rule says so; called once per call. */
  take(service: string, operation: string): InjectedError | undefined {
    let answer: InjectedError | undefined;
    for (const rule of this.rules) {
      if (rule.times <= 0) continue;
      if (!rule.armed) {
        if (rule.after?.service === service && rule.after.operation === operation) {
          rule.armed = true;
        }
        continue;
      }
      if (answer || rule.service !== service || !matches(rule.operation, operation)) continue;
      rule.times -= 1;
      answer = rule.error;
      this.injected.push(`${service}:${operation}`);
    }
    return answer;
  }
}

function matches(wanted: FaultRule["operation"], operation: string): boolean {
  if (wanted === undefined) return true;
  return typeof wanted === "string" ? wanted === operation : wanted.test(operation);
}
