export interface BundleLimits {
  /** Size of the bundle file itself. */
  maxBundleBytes: number;
  /** Sum of the sizes of all entries once unpacked: the guard against zip bombs. */
  maxUnpackedBytes: number;
  maxEntries: number;
}

const MIB = 1024 * 1024;

export const DEFAULT_BUNDLE_LIMITS: BundleLimits = {
  maxBundleBytes: 100 * MIB,
  maxUnpackedBytes: 1024 * MIB,
  maxEntries: 10_000,
};
