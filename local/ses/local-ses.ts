import { randomUUID } from "node:crypto";
import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import addressparser from "nodemailer/lib/addressparser";
import * as z from "../../domain/zod";
import { AwsServiceError } from "../aws-json-server";
import { outboxName } from "../outbox";

/** SES's own cap on the recipients of one message, To, Cc and Bcc together. */
const MAX_RECIPIENTS = 50;
const ADDRESS = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+$/;

const ContentPartSchema = z.looseObject({
  Data: z.string(),
  Charset: z.optional(z.string()),
});

const SendEmailSchema = z.looseObject({
  FromEmailAddress: z.optional(z.string()),
  Destination: z.optional(
    z.looseObject({
      ToAddresses: z.optional(z.array(z.string())),
      CcAddresses: z.optional(z.array(z.string())),
      BccAddresses: z.optional(z.array(z.string())),
    }),
  ),
  ReplyToAddresses: z.optional(z.array(z.string())),
  Content: z.optional(
    z.looseObject({
      Simple: z.optional(
        z.looseObject({
          Subject: z.optional(ContentPartSchema),
          Body: z.optional(
            z.looseObject({
              Text: z.optional(ContentPartSchema),
              Html: z.optional(ContentPartSchema),
            }),
          ),
          Headers: z.optional(z.array(z.looseObject({ Name: z.string(), Value: z.string() }))),
        }),
      ),
      Raw: z.optional(z.looseObject({ Data: z.string() })),
      Template: z.optional(z.unknown()),
    }),
  ),
});
type SendEmailInput = z.infer<typeof SendEmailSchema>;

/** A mail the stand-in took: where it was written, to whom, and the links of its text. */
export interface SentMail {
  messageId: string;
  file: string;
  recipients: string[];
  /** The http(s) URLs of its text body: what an approver would click. */
  links: string[];
}

/**
 * An SES v2 stand-in for SendEmail (Simple and Raw content): each message it accepts is written
 * as an `.eml` file to the outbox, named by time and first recipient, so the folder reads as an
 * inbox. It refuses what SES refuses, with SES's error names, and sends nothing anywhere.
 */
export class LocalSes {
  private sequence = 0;

  constructor(
    readonly outbox: string,
    private readonly region: string,
    private readonly onSent?: (mail: SentMail) => void,
  ) {}

  async sendEmail(body: unknown): Promise<{ MessageId: string }> {
    const parsed = SendEmailSchema.safeParse(body);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
      throw badRequest(`Invalid SendEmail request: ${problems.join("; ")}`);
    }
    const input = parsed.data;
    const content = input.Content;
    if (!content) throw badRequest("Content is required.");
    const kinds = (["Simple", "Raw", "Template"] as const).filter((k) => content[k] !== undefined);
    if (kinds.length !== 1) {
      throw badRequest("Content must have exactly one of Simple, Raw or Template.");
    }
    if (content.Template !== undefined) {
      throw badRequest("Template content is not supported by the local SES; send Simple or Raw.");
    }
    const messageId = `0100${Date.now().toString(16)}-${randomUUID()}-000000`;
    const sent = content.Simple
      ? await this.composeSimple(input, content.Simple, messageId)
      : this.takeRaw(input, content.Raw?.Data ?? "");
    const file = await this.write(sent.message, sent.recipients[0] ?? "unknown");
    const mail: SentMail = {
      messageId,
      file,
      recipients: sent.recipients,
      links: linksOf(sent.text),
    };
    this.onSent?.(mail);
    return { MessageId: messageId };
  }

  private async composeSimple(
    input: SendEmailInput,
    simple: NonNullable<NonNullable<SendEmailInput["Content"]>["Simple"]>,
    messageId: string,
  ): Promise<{ message: Buffer; recipients: string[]; text: string }> {
    const from = input.FromEmailAddress;
    if (!from) throw badRequest("FromEmailAddress is required for Simple content.");
    checkAddresses([from], "FromEmailAddress");
    const recipients = destinationOf(input);
    if (recipients.all.length === 0) {
      throw badRequest(
        "Destination must have at least one of ToAddresses, CcAddresses or BccAddresses.",
      );
    }
    const subject = simple.Subject?.Data;
    if (subject === undefined) throw badRequest("Content.Simple.Subject is required.");
    const text = simple.Body?.Text?.Data;
    const html = simple.Body?.Html?.Data;
    if (text === undefined && html === undefined) {
      throw badRequest("Content.Simple.Body must have Text, Html or both.");
    }
    const replyTo = input.ReplyToAddresses ?? [];
    checkAddresses(replyTo, "ReplyToAddresses");
    // Loaded with the first mail: the stack's start should not wait for a MIME library.
    const { default: MailComposer } = await import("nodemailer/lib/mail-composer");
    const composer = new MailComposer({
      from,
      to: recipients.to,
      cc: recipients.cc,
      bcc: recipients.bcc,
      ...(replyTo.length ? { replyTo } : {}),
      subject,
      ...(text === undefined ? {} : { text }),
      ...(html === undefined ? {} : { html }),
      headers: Object.fromEntries((simple.Headers ?? []).map((h) => [h.Name, h.Value])),
      messageId: `<${messageId}@${this.region}.amazonses.com>`,
      date: new Date(),
    });
    const message = await composer.compile().build();
    return { message, recipients: recipients.all, text: text ?? "" };
  }

  private takeRaw(
    input: SendEmailInput,
    data: string,
  ): { message: Buffer; recipients: string[]; text: string } {
    const message = Buffer.from(data, "base64");
    const headers = headersOf(message.toString("utf8"));
    if (!headers) throw badRequest("Content.Raw.Data is not a MIME message: it has no headers.");
    if (!input.FromEmailAddress && !headers.get("from")) {
      throw badRequest("Missing required header 'From'.");
    }
    const destination = destinationOf(input).all;
    const recipients = destination.length
      ? destination
      : ["to", "cc", "bcc"].flatMap((name) =>
          addressparser(headers.get(name) ?? "", { flatten: true }).map((a) => a.address),
        );
    if (recipients.length === 0) {
      throw badRequest(
        "Raw message has no recipients: give a Destination or To, Cc or Bcc headers.",
      );
    }
    checkAddresses(recipients, "recipient");
    // The text body of a raw message is not decoded here: its links are not listed.
    return { message, recipients, text: "" };
  }

  private async write(message: Buffer, recipient: string): Promise<string> {
    this.sequence += 1;
    const file = path.join(
      this.outbox,
      `${outboxName(new Date(), this.sequence)}-${safe(recipient)}.eml`,
    );
    await mkdir(this.outbox, { recursive: true });
    // Written whole, then renamed: a reader polling the folder never sees half a message.
    await writeFile(`${file}.tmp`, message);
    await rename(`${file}.tmp`, file);
    return file;
  }
}

function destinationOf(input: SendEmailInput): {
  to: string[];
  cc: string[];
  bcc: string[];
  all: string[];
} {
  const to = input.Destination?.ToAddresses ?? [];
  const cc = input.Destination?.CcAddresses ?? [];
  const bcc = input.Destination?.BccAddresses ?? [];
  const all = [...to, ...cc, ...bcc];
  if (all.length > MAX_RECIPIENTS) {
    throw new AwsServiceError(
      "MessageRejected",
      `A message may have at most ${MAX_RECIPIENTS} recipients; this one has ${all.length}.`,
    );
  }
  checkAddresses(all, "Destination");
  return { to, cc, bcc, all: all.map((a) => addressOnly(a)) };
}

/** Each entry must be one mailbox, `a@b` or `Name <a@b>`, as SES reads addresses. */
function checkAddresses(addresses: readonly string[], field: string): void {
  for (const entry of addresses) {
    const parsed = addressparser(entry, { flatten: true });
    if (parsed.length !== 1 || !ADDRESS.test(parsed[0]?.address ?? "")) {
      throw badRequest(`Illegal address in ${field}: "${entry}".`);
    }
  }
}

function addressOnly(entry: string): string {
  return addressparser(entry, { flatten: true })[0]?.address ?? entry;
}

/** The header fields of a message, unfolded, by lower-cased name; undefined if it has none. */
function headersOf(message: string): Map<string, string> | undefined {
  const end = message.search(/\r?\n\r?\n/);
  const block = end < 0 ? message : message.slice(0, end);
  const lines = block.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) return undefined;
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers.size ? headers : undefined;
}

function linksOf(text: string): string[] {
  return [...text.matchAll(/https?:\/\/[^\s<>"]+/g)].map((m) => m[0]);
}

/** A recipient as part of a file name: what a file system takes everywhere. */
function safe(recipient: string): string {
  return recipient.replace(/[^\w.@+-]/g, "_").slice(0, 100);
}

function badRequest(message: string): AwsServiceError {
  return new AwsServiceError("BadRequestException", message);
}
