import { CodeDeployClient } from "@aws-sdk/client-codedeploy";

let client: CodeDeployClient | undefined;

/** The CodeDeploy client, built on first use and kept for the container's life. */
export function codeDeploy(): CodeDeployClient {
  client ??= new CodeDeployClient({});
  return client;
}
