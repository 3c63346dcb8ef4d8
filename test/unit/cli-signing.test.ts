import { createHash, createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { userInfo } from "node:os";
import { SignatureV4 } from "@smithy/signature-v4";
import type { SourceData } from "@smithy/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../cli/main";
import { requestSigner } from "../../cli/request-signer";

/** SHA-256 for the SDK's own signer, which API Gateway's IAM check amounts to. */
class Sha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(secret));
  }
  update(data: Uint8Array) {
    this.hash.update(data);
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
  reset() {}
}

function bytes(data: SourceData): string | Uint8Array {
  if (typeof data === "string") return data;
  return ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data);
}

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const CREDENTIALS = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG" };
const received: Received[] = [];
const server = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  received.push({
    method: req.method ?? "",
    path: req.url ?? "",
    headers: req.headers,
    body: Buffer.concat(chunks).toString("utf8"),
  });
  res.writeHead(202, { "content-type": "application/json" });
  res.end(JSON.stringify({ id: "01RUN", status: "QUEUED" }));
});
let api: string;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

/** Checks a received request's SigV4 signature as API Gateway would, over its signed headers. */
async function expectedAuthorization(request: Received, secretAccessKey: string) {
  const authorization = String(request.headers.authorization);
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(";") ?? [];
  const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\//.exec(authorization);
  const amzDate = String(request.headers["x-amz-date"]);
  const signer = new SignatureV4({
    credentials: { accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey },
    region: scope?.[1] ?? "",
    service: scope?.[2] ?? "",
    sha256: Sha256,
    applyChecksum: false,
  });
  const url = new URL(request.path, api);
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: "http:",
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(
        signedHeaders.map((name) => [name, String(request.headers[name])]),
      ),
      body: request.body,
    },
    {
      signingDate: new Date(
        amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z"),
      ),
    },
  );
  return signed.headers.authorization;
}

describe("the CLI's requests to the Sluice API", () => {
  it("carry a SigV4 signature for execute-api made with the caller's credentials", async () => {
    const code = await main(
      ["run", "start", "--app", "hello", "--commit", "0123456789abcdef0123456789abcdef01234567"],
      {
        stdout: () => {},
        stderr: () => {},
        env: { SLUICE_API: api, ...toEnv(CREDENTIALS), AWS_REGION: "eu-west-1" },
      },
    );

    expect(code).toBe(0);
    const request = received.at(-1);
    if (!request) throw new Error("the CLI sent nothing");
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/,
    );
    expect(JSON.parse(request.body)).toMatchObject({ revision: { type: "git" } });
    expect(request.headers.authorization).toBe(
      await expectedAuthorization(request, CREDENTIALS.secretAccessKey),
    );
    expect(request.headers.authorization).not.toBe(
      await expectedAuthorization(request, "another secret"),
    );
  });

  it("name the OS user to a local API when no AWS credentials are set, or only the stand-ins' shared pair", async () => {
    const user = userInfo().username;

    const bare = await requestSigner(api, {})(new Request(`${api}/runs/x`));
    const shared = await requestSigner(api, {
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
    })(new Request(`${api}/runs/x`));

    expect(bare.headers.get("authorization")).toContain(`Credential=local-${user}/`);
    expect(shared.headers.get("authorization")).toContain(`Credential=local-${user}/`);
  });

  it("take the region from an execute-api address", async () => {
    const sign = requestSigner("https://abc123.execute-api.ap-south-2.amazonaws.com", {
      ...toEnv(CREDENTIALS),
      AWS_REGION: "us-east-1",
    });

    const signed = await sign(
      new Request("https://abc123.execute-api.ap-south-2.amazonaws.com/runs/x"),
    );

    expect(signed.headers.get("authorization")).toContain("/ap-south-2/execute-api/aws4_request");
  });

  it("carry a session token when the credentials have one", async () => {
    const sign = requestSigner(api, { ...toEnv(CREDENTIALS), AWS_SESSION_TOKEN: "token-1" });

    const signed = await sign(new Request(`${api}/runs/x`));

    expect(signed.headers.get("x-amz-security-token")).toBe("token-1");
  });
});

function toEnv(credentials: typeof CREDENTIALS) {
  return {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  };
}
