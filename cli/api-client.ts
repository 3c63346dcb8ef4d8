import { CliError } from "./errors";
import type { RequestSigner } from "./request-signer";

// biome-ignore lint/suspicious/noExplicitAny: answers are read field by field and printed
export type Json = any;

export interface ApiAnswer {
  status: number;
  body: Json;
}

/**
 * The Sluice HTTP API; an error answer becomes a CliError carrying the API's own message. Every
 * request is signed: the deployed API lets only IAM principals in.
 */
export class ApiClient {
  constructor(
    private readonly base: string,
    private readonly sign: RequestSigner,
  ) {}

  async get(path: string): Promise<Json> {
    return (await this.send("GET", path)).body;
  }

  /** The answer's body, or undefined when the API answers 404. */
  async find(path: string): Promise<Json | undefined> {
    const answer = await this.send("GET", path, undefined, [404]);
    return answer.status === 404 ? undefined : answer.body;
  }

  async post(path: string, body: unknown): Promise<Json> {
    return (await this.send("POST", path, { type: "application/json", text: JSON.stringify(body) }))
      .body;
  }

  async put(path: string, text: string, type: string): Promise<ApiAnswer> {
    return this.send("PUT", path, { type, text });
  }

  private async send(
    method: string,
    path: string,
    body?: { type: string; text: string },
    allowed: readonly number[] = [],
  ): Promise<ApiAnswer> {
    const url = `${this.base}${path}`;
    const request = await this.sign(
      new Request(url, {
        method,
        ...(body ? { headers: { "content-type": body.type }, body: body.text } : {}),
      }),
    );
    let res: Response;
    try {
      res = await fetch(request);
    } catch (err) {
      const reason = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
      throw new CliError(`cannot reach the Sluice API at ${this.base}: ${reason}`, { cause: err });
    }
    const text = await res.text();
    let parsed: Json = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: keep the text for the message below.
    }
    if (!res.ok && !allowed.includes(res.status)) {
      const message = typeof parsed === "object" && parsed?.message ? parsed.message : text;
      throw new CliError(`${method} ${path}: ${res.status} ${message}`);
    }
    return { status: res.status, body: parsed };
  }
}
