import { mkdir } from "node:fs/promises";
import { createServer } from "node:http";
import path from "node:path";
import S3rver from "s3rver";
import { close, listen } from "../aws-json-server";
import type { LocalService } from "../local-service";
import { BucketNotifier, lambdaNotifications } from "../s3-notifications";

/**
 * S3: s3rver, its objects under the state folder, with the releases bucket and its Lambda
 * notifications from serverless.yml. s3rver serves on a server of ours: its own `run` throws
 * a busy port out of reach of any caller.
 */
export const s3Service: LocalService<"s3", undefined> = {
  name: "s3",
  title: "S3",
  endpointVariable: "AWS_ENDPOINT_URL_S3",
  portVariable: "SLUICE_S3_PORT",
  defaultPort: 4569,
  async start({ stateDir, region, config, resources, lambdas }, port) {
    const dir = path.join(stateDir, "s3");
    await mkdir(dir, { recursive: true });
    const bucket = resources.releasesBucket;
    const s3 = new S3rver({
      directory: dir,
      silent: true,
      allowMismatchedSignatures: true,
      vhostBuckets: false,
      configureBuckets: [{ name: bucket, configs: [] }],
    });
    await s3.configureBuckets();
    const notifier = new BucketNotifier(
      bucket,
      lambdaNotifications(
        config.resources.get("ReleasesBucket")?.Properties,
        config.functions.keys(),
      ),
      lambdas,
      region,
    );
    s3.on("event", (event: unknown) => notifier.notify(event));
    const server = createServer(s3.callback());
    return {
      port: await listen(server, port),
      handle: undefined,
      env: { SLUICE_RELEASES_BUCKET: bucket, SLUICE_S3_FORCE_PATH_STYLE: "true" },
      summary: `bucket ${bucket} (path-style)`,
      drain: () => notifier.drain(),
      stop: () => close(server),
    };
  },
};
