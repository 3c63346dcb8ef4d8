/**
 * The kinds of failure Sluice knows. Each transport maps them once: HTTP to a status (see
 * http/api.ts), the state machine to an error name `Sluice.<Kind>` (see functions/task.ts), so
 * the ASL can retry what is transient and let the rest end the run.
 */
export type ErrorKind =
  | "InvalidInput"
  | "NotFound"
  | "Conflict"
  | "Transient"
  | "Rejected"
  | "Locked";

export class SluiceError extends Error {
  readonly kind: ErrorKind;
  /** Whether a caller may read the message; a transient failure's cause goes to the log only. */
  readonly expose: boolean;

  constructor(kind: ErrorKind, message: string, options?: ErrorOptions & { expose?: boolean }) {
    super(message, options);
    this.name = "SluiceError";
    this.kind = kind;
    this.expose = options?.expose ?? kind !== "Transient";
  }
}

export class BadRequestError extends SluiceError {
  constructor(message: string, options?: ErrorOptions) {
    super("InvalidInput", message, options);
    this.name = "BadRequestError";
  }
}

/** Invalid input of one particular sort: a request that does not prove who sent it. */
export class UnauthorizedError extends SluiceError {
  constructor(message: string, options?: ErrorOptions) {
    super("InvalidInput", message, options);
    this.name = "UnauthorizedError";
  }
}

/** Invalid input of one particular sort: more bytes than Sluice reads. */
export class PayloadTooLargeError extends SluiceError {
  constructor(message: string, options?: ErrorOptions) {
    super("InvalidInput", message, options);
    this.name = "PayloadTooLargeError";
  }
}

/** A refusal of who asks: they may not do this (not an approver, the change's own author). */
export class ForbiddenError extends SluiceError {
  constructor(message: string, options?: ErrorOptions) {
    super("Rejected", message, options);
    this.name = "ForbiddenError";
  }
}

/** Not found of one particular sort: it was there, and is no longer (an expired link). */
export class GoneError extends SluiceError {
  constructor(message: string, options?: ErrorOptions) {
    super("NotFound", message, options);
    this.name = "GoneError";
  }
}

export class NotFoundError extends SluiceError {
  constructor(message: string, options?: ErrorOptions) {
    super("NotFound", message, options);
    this.name = "NotFoundError";
  }
}

export class ConflictError extends SluiceError {
  constructor(message: string, options?: ErrorOptions) {
    super("Conflict", message, options);
    this.name = "ConflictError";
  }
}

/** Worth trying again as it is: throttling, a timeout, a service's 5xx. */
export class TransientError extends SluiceError {
  constructor(message: string, options?: ErrorOptions & { expose?: boolean }) {
    super("Transient", message, options);
    this.name = "TransientError";
  }
}

/**
 * Refused for a reason with a name (an approval rejected, a bundle that breaks a rule): final,
 * and the code says which rule.
 */
export class RejectedError extends SluiceError {
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super("Rejected", message, options);
    this.name = "RejectedError";
  }
}

/**
 * Another run holds the deployment group's lock: worth trying again once its lease may have
 * run out (the state machine retries `Sluice.Locked` at the lease's pace).
 */
export class LockedError extends SluiceError {
  constructor(message: string, options?: ErrorOptions) {
    super("Locked", message, options);
    this.name = "LockedError";
  }
}

/**
 * Step Functions would not start a recorded run's pipeline. Transient: admission tries again
 * (the table's stream redelivers the run) until it gives up and ends the run FAILED.
 */
export class PipelineStartError extends TransientError {
  constructor(
    readonly runId: string,
    options?: ErrorOptions,
  ) {
    super(`Step Functions would not start the pipeline of run ${runId}`, options);
    this.name = "PipelineStartError";
  }
}

/**
 * Whether an AWS SDK error is worth retrying: throttling, a timeout, a 5xx, or a connection that
 * failed. The SDK already retried it a few times; the state machine's Retry tries for longer.
 */
export function isTransientAwsError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const e = err as Error & {
    $retryable?: unknown;
    $fault?: string;
    $metadata?: { httpStatusCode?: number };
    code?: string;
  };
  if (e.$retryable || e.$fault === "server") return true;
  if ((e.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  if (/Throttl|TooManyRequests|RequestLimitExceeded|ProvisionedThroughputExceeded/.test(e.name)) {
    return true;
  }
  return ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "TimeoutError"].includes(
    e.code ?? e.name,
  );
}
