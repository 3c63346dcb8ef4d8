import type { Provider } from "./change";
import type { ParsedWebhook } from "./parsed";
import { parseBitbucket } from "./providers/bitbucket";
import { parseGitea } from "./providers/gitea";
import { parseGithub } from "./providers/github";
import { parseGitlab } from "./providers/gitlab";
import type { IncomingWebhook } from "./verify";

export type { ParsedWebhook } from "./parsed";
export { WebhookPayloadError } from "./parsed";

/**
 * Reads an authentic webhook (verify it first) into a ping, a change to deploy, or a
 * harmless event to ignore. Throws WebhookPayloadError when it cannot.
 */
export function parseWebhook(provider: Provider, webhook: IncomingWebhook): ParsedWebhook {
  switch (provider) {
    case "github":
      return parseGithub(webhook);
    case "gitlab":
      return parseGitlab(webhook);
    case "bitbucket":
      return parseBitbucket(webhook);
    case "gitea":
      return parseGitea(webhook);
  }
}
