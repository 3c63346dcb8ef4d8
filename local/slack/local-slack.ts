import { access, mkdir, rename, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import path from "node:path";
import { readBody } from "../aws-json-server";
import { outboxName } from "../outbox";

/** The incoming webhook's path: Slack's shape, `/services/<team>/<bot>/<secret>`. */
const LOCAL_WEBHOOK_PATH = "/services/T0LOCAL/B0LOCAL/local";
const RESPONSE_PATH = "/actions/";

/**
 * A Slack stand-in: an incoming webhook whose messages are written as JSON files to the outbox,
 * and the `response_url`s a click on one of them would carry, whose replies are written beside
 * them, named after the message they replace or answer. It answers as Slack does: `ok`, or a
 * 400 with Slack's error word (`invalid_payload`, `no_text`).
 */
export class LocalSlack {
  private sequence = 0;
  private base = "";

  constructor(readonly outbox: string) {}

  /** The stand-in's address, once it listens. */
  listening(base: string): void {
    this.base = base;
  }

  get webhookUrl(): string {
    return `${this.base}${LOCAL_WEBHOOK_PATH}`;
  }

  /** The response_url Slack would put in a click on message `id`. */
  responseUrl(id: string): string {
    return `${this.base}${RESPONSE_PATH}${encodeURIComponent(id)}`;
  }

  /** Whether `id` names a message of the outbox (and nothing outside it). */
  private async holds(id: string): Promise<boolean> {
    if (!/^[\w.-]+$/.test(id)) return false;
    return access(path.join(this.outbox, `${id}.json`)).then(
      () => true,
      () => false,
    );
  }

  serve(): Server {
    return createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) answer(res, 500, `internal_error: ${(err as Error).message}`);
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = (req.url ?? "").split("?")[0] ?? "";
    const text = await readBody(req);
    if (req.method !== "POST") return answer(res, 405, "invalid_method");
    const webhook = url.startsWith("/services/");
    const original = url.startsWith(RESPONSE_PATH)
      ? decodeURIComponent(url.slice(RESPONSE_PATH.length))
      : undefined;
    if (!webhook && original === undefined) return answer(res, 404, "no_service");
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      return answer(res, 400, "invalid_payload");
    }
    if (!payload || typeof payload !== "object" || Array.isArray(payload)) {
      return answer(res, 400, "invalid_payload");
    }
    const message = payload as Record<string, unknown>;
    if (typeof message.text !== "string" && !Array.isArray(message.blocks)) {
      return answer(res, 400, "no_text");
    }
    if (webhook) {
      if (url !== LOCAL_WEBHOOK_PATH) return answer(res, 404, "no_service");
      await this.write("", message);
      return answer(res, 200, "ok");
    }
    if (!original || !(await this.holds(original))) return answer(res, 404, "expired_url");
    const how = message.replace_original === true ? "replaces" : "reply-to";
    await this.write(`-${how}-${original}`, message);
    return answer(res, 200, "ok");
  }

  private async write(suffix: string, payload: Record<string, unknown>): Promise<void> {
    this.sequence += 1;
    await mkdir(this.outbox, { recursive: true });
    const file = path.join(this.outbox, `${outboxName(new Date(), this.sequence)}${suffix}.json`);
    await writeFile(`${file}.tmp`, `${JSON.stringify(payload, null, 2)}\n`);
    await rename(`${file}.tmp`, file);
  }
}

function answer(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "text/html" });
  res.end(text);
}
