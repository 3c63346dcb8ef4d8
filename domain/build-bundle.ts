/** The file the build packs its bundle into, and the folder (beside the clone) it packs it in. */
export const BUILD_BUNDLE_FILE = "bundle.tgz";
export const BUILD_BUNDLE_DIR = "sluice-bundle";

/**
 * Where a run's build leaves its bundle in the releases bucket. Under `<app>/builds/`, so no
 * upload's key (`<app>/<version>.<ext>`, one "/") can be it, and ending in `.tgz`, which the
 * bucket's notification (`.zip`, `.tar.gz`) does not announce: a build's bundle starts no run.
 */
export interface BuildBundleLocation {
  bucket: string;
  key: string;
}

/**
 * CodeBuild's ArtifactsOverride for it (Step Functions' PascalCase): packaging NONE puts the
 * buildspec's artifact files in the folder `<Path>/<Name>/`. Encryption is left to the
 * bucket's default, as for uploaded bundles, so hosts read both alike.
 */
export interface BuildArtifactsOverride {
  Type: "S3";
  Location: string;
  Path: string;
  Name: string;
  NamespaceType: "NONE";
  Packaging: "NONE";
  EncryptionDisabled: true;
}

export function buildBundleOutput(
  bucket: string,
  app: string,
  runId: string,
): { location: BuildBundleLocation; override: BuildArtifactsOverride } {
  const path = `${app}/builds`;
  return {
    location: { bucket, key: `${path}/${runId}/${BUILD_BUNDLE_FILE}` },
    override: {
      Type: "S3",
      Location: bucket,
      Path: path,
      Name: runId,
      NamespaceType: "NONE",
      Packaging: "NONE",
      EncryptionDisabled: true,
    },
  };
}
