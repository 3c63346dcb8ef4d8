import path from "node:path";
import { close, listen } from "../aws-json-server";
import type { LocalService } from "../local-service";
import { outboxDir } from "../outbox";
import { LocalSes, type SentMail } from "../ses/local-ses";
import { serveSes } from "../ses/server";

export interface SesOptions {
  /**
   * Told one line per mail taken: its recipients and the links of its text. `npm start` prints
   * it, which makes the terminal the local inbox of approval links.
   */
  inbox?: (line: string) => void;
}

/** SES v2: SendEmail writes each message as an `.eml` file into `<state>/outbox/email/`. */
export const sesService: LocalService<"ses", LocalSes, SesOptions> = {
  name: "ses",
  title: "SES",
  endpointVariable: "AWS_ENDPOINT_URL_SESV2",
  portVariable: "SLUICE_SES_PORT",
  defaultPort: 4579,
  async start({ stateDir, region, faults }, port, options) {
    const outbox = outboxDir(stateDir, "email");
    const inbox = options?.inbox;
    const ses = new LocalSes(outbox, region, inbox && ((mail) => inbox(inboxLine(mail))));
    const server = serveSes(ses, (operation) => faults.take("ses", operation));
    return {
      port: await listen(server, port),
      handle: ses,
      summary: `mail written to ${outbox}`,
      stop: () => close(server),
    };
  },
};

function inboxLine(mail: SentMail): string {
  const to = mail.recipients.join(", ");
  const file = path.relative(process.cwd(), mail.file);
  return mail.links.length ? `mail to ${to}: ${mail.links.join(" ")}` : `mail to ${to}: ${file}`;
}
