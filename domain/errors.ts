/**
 * Errors a caller can act on. Handlers turn them into HTTP answers: the status and the message
 * of a 4xx reach the client; anything else is logged and answered as a bare 500.
 */
export class SluiceError extends Error {
  readonly statusCode: number;
  readonly expose: boolean;

  constructor(statusCode: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SluiceError";
    this.statusCode = statusCode;
    this.expose = statusCode < 500;
  }
}

export class BadRequestError extends SluiceError {
  constructor(message: string, options?: ErrorOptions) {
    super(400, message, options);
    this.name = "BadRequestError";
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
