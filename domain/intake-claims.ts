import type { BundleRelease } from "./bundles/release-record";
import { ConflictError } from "./errors";
import type { DeliveryRecord } from "./ports";

/**
 * What an intake claims in the same write that records its run, so that either both exist or
 * neither does: a webhook delivery (by its id), the body it brought (for the hosts whose bodies
 * carry the push time), or a bundle release (by app version).
 */
export type IntakeClaim =
  | { kind: "delivery"; delivery: DeliveryRecord }
  | { kind: "payload"; delivery: DeliveryRecord }
  | { kind: "release"; release: BundleRelease };

/** The delivery that first brought a body, and the run it started. */
export interface PayloadHolder {
  deliveryId: string;
  runId: string;
}

/** A claim someone made first, as it is recorded. */
export type TakenClaim =
  | { kind: "delivery"; holder: DeliveryRecord }
  | { kind: "payload"; holder: PayloadHolder }
  | { kind: "release"; holder: BundleRelease };

/** The run was not recorded because one of its claims was made before; `taken` is that claim. */
export class ClaimTakenError extends ConflictError {
  constructor(
    readonly taken: TakenClaim,
    options?: ErrorOptions,
  ) {
    super(`the ${taken.kind} was claimed before, by run ${taken.holder.runId}`, options);
    this.name = "ClaimTakenError";
  }
}
