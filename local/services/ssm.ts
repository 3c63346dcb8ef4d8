import path from "node:path";
import { close, listen, serveAwsJson } from "../aws-json-server";
import type { LocalService } from "../local-service";
import { LocalSsm } from "../ssm";

/** SSM Parameter Store: webhook secrets, kept in a file of the state folder. */
export const ssmService: LocalService<"ssm", LocalSsm> = {
  name: "ssm",
  title: "SSM",
  endpointVariable: "AWS_ENDPOINT_URL_SSM",
  portVariable: "SLUICE_SSM_PORT",
  defaultPort: 4583,
  async start({ stateDir, region, accountId, resources, faults }, port) {
    const ssm = await LocalSsm.open(path.join(stateDir, "ssm.json"), region, accountId);
    const server = serveAwsJson(
      "AmazonSSM",
      "application/x-amz-json-1.1",
      ssm.operations,
      (operation) => faults.take("ssm", operation),
    );
    return {
      port: await listen(server, port),
      handle: ssm,
      env: { SLUICE_SECRETS_PREFIX: resources.secretsPrefix },
      summary: `webhook secrets under ${resources.secretsPrefix}`,
      stop: () => close(server),
    };
  },
};
