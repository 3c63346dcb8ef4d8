import { type SESv2Client, SendEmailCommand } from "@aws-sdk/client-sesv2";
import type { ApprovalEmail } from "../domain/approval-email";
import { isTransientAwsError, TransientError } from "../domain/errors";
import { sesv2 } from "./clients/sesv2";
import { stackConfig } from "./config";

/** Approval mails through SES v2, as text and HTML, from the stack's configured address. */
export class EmailChannel {
  constructor(
    private readonly ses: SESv2Client,
    private readonly from: string,
  ) {}

  /** Sends `mail`; SES's throttling, 5xx or a lost connection is a TransientError. */
  async send(mail: ApprovalEmail): Promise<void> {
    const command = new SendEmailCommand({
      FromEmailAddress: this.from,
      Destination: { ToAddresses: [mail.to] },
      Content: {
        Simple: {
          Subject: { Data: mail.subject, Charset: "UTF-8" },
          Body: {
            Text: { Data: mail.text, Charset: "UTF-8" },
            Html: { Data: mail.html, Charset: "UTF-8" },
          },
        },
      },
    });
    try {
      await this.ses.send(command);
    } catch (err) {
      if (isTransientAwsError(err)) {
        throw new TransientError(
          `SES could not send the approval mail now: ${(err as Error).name}`,
        );
      }
      throw err;
    }
  }
}

let channel: EmailChannel | undefined;

/** The stack's mail channel, over the container's SES client. */
export function emailChannel(): EmailChannel {
  channel ??= new EmailChannel(sesv2(), stackConfig().emailFrom);
  return channel;
}
