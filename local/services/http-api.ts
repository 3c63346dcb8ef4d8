import { close, listen } from "../aws-json-server";
import { createHttpApi } from "../http-api";
import type { LocalService } from "../local-service";
import { type LocalPerson, localPerson } from "../people-token";

/**
 * API Gateway's HTTP API: the httpApi routes of serverless.yml. It is the stack's intake, so
 * it is the first to close when the stack stops.
 */
export const httpApiService: LocalService<"api", { person: LocalPerson; dashboardUrl: string }> = {
  name: "api",
  title: "HTTP API",
  portVariable: "SLUICE_API_PORT",
  defaultPort: 3000,
  async start({ config, lambdas, stateDir }, port) {
    const person = await localPerson(stateDir);
    const server = createHttpApi(config.routes, lambdas, person);
    const listening = await listen(server, port);
    return {
      port: listening,
      // The page keeps the token from its address and takes it out of the address bar.
      handle: {
        person,
        dashboardUrl: `http://127.0.0.1:${listening}/ui?token=${person.token}`,
      },
      // Approval links lead here, as in AWS they lead to the HTTP API's own URL.
      env: { SLUICE_PUBLIC_URL: `http://127.0.0.1:${listening}` },
      summary: `${config.routes.length} routes of serverless.yml`,
      drain: () => close(server),
    };
  },
};
