/**
 * Errors a caller can act on. Handlers turn them into HTTP answers: the status and the message
 * of a 4xx reach the client; anything else is logged and answered as a bare 500.
 */
export class SluiceError extends Error {
  readonly statusCode: number;
  readonly expose: boolean;

  constructor(statusCode: number, message: string, options?: ErrorOptions & { expose?: boolean }) {
    super(message, options);
    this.name = "SluiceError";
    this.statusCode = statusCode;
    this.expose = options?.expose ?? statusCode < 500;
  }
}

export class BadRequestError extends SluiceError {
  constructor(message: string, options?: ErrorOptions) {
    super(400, message, options);
    this.name = "BadRequestError";
  }
}

export class UnauthorizedError extends SluiceError {
  constructor(message: string, options?: ErrorOptions) {
    super(401, message, options);
    this.name = "UnauthorizedError";
  }
}

export class NotFoundError extends SluiceError {
  constructor(message: string, options?: ErrorOptions) {
    super(404, message, options);
    this.name = "NotFoundError";
  }
}

export class ConflictError extends SluiceError {
  constructor(message: string, options?: ErrorOptions) {
    super(409, message, options);
    this.name = "ConflictError";
  }
}

export class PayloadTooLargeError extends SluiceError {
  constructor(message: string, options?: ErrorOptions) {
    super(413, message, options);
    this.name = "PayloadTooLargeError";
  }
}

/**
 * The pipeline could not be started for a recorded run, which is now FAILED. Shown to the caller
 * (a git host retries on a 5xx) without the AWS error, which only the log gets.
 */
export class PipelineStartError extends SluiceError {
  constructor(runId: string, options?: ErrorOptions) {
    super(503, `the pipeline could not start run ${runId}, which is marked FAILED; try again`, {
      ...options,
      expose: true,
    });
    this.name = "PipelineStartError";
  }
}
