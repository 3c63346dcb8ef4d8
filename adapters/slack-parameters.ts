/**
 * Where the stack's Slack app is configured: two SecureString parameters under the stack's
 * prefix. Apart from the SSM client, so the local stack can name them without loading it.
 */
export function slackParameterNames(secretsPrefix: string): {
  webhookUrl: string;
  signingSecret: string;
} {
  return {
    webhookUrl: `${secretsPrefix}/slack/webhook-url`,
    signingSecret: `${secretsPrefix}/slack/signing-secret`,
  };
}
