import path from "node:path";
import { close, listen } from "../aws-json-server";
import { LocalCloudWatch } from "../cloudwatch/alarms";
import { serveCloudWatch } from "../cloudwatch/server";
import type { LocalService } from "../local-service";
import { eventBridgeService } from "./event-bridge";

/**
 * CloudWatch alarms: metric alarms a person, a test or the CLI sets with SetAlarmState, each
 * change of state announced on the default bus as CloudWatch does. Both the SDK's JSON protocol
 * and the AWS CLI's query protocol are served.
 */
export const cloudWatchService: LocalService<"cloudwatch", LocalCloudWatch> = {
  name: "cloudwatch",
  title: "CloudWatch",
  endpointVariable: "AWS_ENDPOINT_URL_CLOUDWATCH",
  portVariable: "SLUICE_CLOUDWATCH_PORT",
  defaultPort: 4582,
  async start(context, port) {
    const { stateDir, region, accountId, faults } = context;
    const eventBridge = context.use(eventBridgeService);
    const dir = path.join(stateDir, "cloudwatch");
    const cloudWatch = await LocalCloudWatch.open(dir, region, accountId, (entries) =>
      eventBridge.put(entries),
    );
    const server = serveCloudWatch(cloudWatch.operations, (operation) =>
      faults.take("cloudwatch", operation),
    );
    return {
      port: await listen(server, port),
      handle: cloudWatch,
      summary: `alarms kept in ${dir}`,
      // State changes a previous process recorded but may not have announced go on the bus.
      ready: () => cloudWatch.announcePending(),
      drain: () => cloudWatch.drain(),
      stop: () => close(server),
    };
  },
};
