export const REJECTION_CODES = [
  "NO_APPSPEC",
  "INVALID_APPSPEC",
  "MISSING_HOOK_SCRIPT",
  "UNSAFE_PATH",
  "TOO_LARGE",
  "CORRUPT_ARCHIVE",
  "UNSUPPORTED_FORMAT",
] as const;

export type RejectionCode = (typeof REJECTION_CODES)[number];

/** A release bundle that Sluice refuses to record or deploy; `message` names the offending part. */
export class BundleRejectedError extends Error {
  override readonly name = "BundleRejectedError";
  readonly code: RejectionCode;

  constructor(code: RejectionCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
