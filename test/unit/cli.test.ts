import { describe, expect, it } from "vitest";
import { main } from "../../cli/main";
import { LOCAL, resolveCloudWatchEndpoint, resolveSettings } from "../../cli/settings";

/** Nothing listens on port 1: a command that reached the network would fail differently. */
const UNREACHABLE = "http://127.0.0.1:1";

async function sluice(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, {
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    env: { SLUICE_API: UNREACHABLE },
  });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

describe("resolveSettings", () => {
  it("points at the local stack when nothing is said", () => {
    expect(resolveSettings({}, {})).toEqual({
      api: LOCAL.api,
      bucket: LOCAL.bucket,
      s3Endpoint: LOCAL.s3Endpoint,
    });
  });

  it("takes the environment, and options over it", () => {
    const env = {
      SLUICE_API: "https://api.example.com/",
      SLUICE_RELEASES_BUCKET: "env-bucket",
      AWS_ENDPOINT_URL_S3: "http://s3.env:9000",
    };

    expect(resolveSettings({}, env)).toEqual({
      api: "https://api.example.com",
      bucket: "env-bucket",
      s3Endpoint: "http://s3.env:9000",
    });
    expect(
      resolveSettings(
        { api: "http://cli:1", bucket: "cli-bucket", s3Endpoint: "http://s3.cli" },
        env,
      ),
    ).toEqual({ api: "http://cli:1", bucket: "cli-bucket", s3Endpoint: "http://s3.cli" });
  });

  it("refuses an API address that is not an http(s) URL", () => {
    expect(() => resolveSettings({ api: "127.0.0.1:3000" }, {})).toThrow(
      'the Sluice API must be an http(s) URL, not "127.0.0.1:3000"',
    );
  });

  it("uses AWS's own S3 endpoint for a bucket other than the local one", () => {
    expect(resolveSettings({ bucket: "sluice-prod-releases-123456789012-eu-west-1" }, {})).toEqual({
      api: LOCAL.api,
      bucket: "sluice-prod-releases-123456789012-eu-west-1",
    });
  });
});

describe("resolveCloudWatchEndpoint", () => {
  it("is the local stand-in for a local API, AWS's own for a deployed one", () => {
    expect(resolveCloudWatchEndpoint({}, {})).toBe(LOCAL.cloudwatchEndpoint);
    expect(
      resolveCloudWatchEndpoint(
        {},
        { SLUICE_API: "https://abc.execute-api.eu-west-1.amazonaws.com" },
      ),
    ).toBeUndefined();
  });

  it("takes AWS_ENDPOINT_URL_CLOUDWATCH, and the option over it", () => {
    const env = { AWS_ENDPOINT_URL_CLOUDWATCH: "http://cw.env:1" };

    expect(resolveCloudWatchEndpoint({}, env)).toBe("http://cw.env:1");
    expect(resolveCloudWatchEndpoint({ cloudwatchEndpoint: "http://cw.cli:2" }, env)).toBe(
      "http://cw.cli:2",
    );
  });
});

describe("sluice, before it reaches anything", () => {
  it("prints its help and exits with 0", async () => {
    const { code, stdout } = await sluice("--help");

    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: sluice /);
    for (const command of ["push", "runs", "run", "apps", "alarm"])
      expect(stdout).toContain(command);
  });

  it.each([
    [
      ["push", "hello.tgz", "--app", "hello", "--version", "1.0.0"],
      /cannot tell the format of hello\.tgz: name it \.zip or \.tar\.gz/,
    ],
    [
      ["push", "b.zip", "--app", "Hello", "--version", "1.0.0"],
      /"Hello" \/ "1\.0\.0" cannot name a release/,
    ],
    [["push", "b.zip", "--app", "hello", "--version", "../1"], /cannot name a release/],
    [["push", "b.zip", "--app", "hello"], /required option '--version <version>' not specified/],
    [
      ["push", "b.zip", "--app", "hello", "--version", "1", "--timeout", "soon"],
      /--timeout.*a number of seconds/,
    ],
    [["run"], /name a run \(sluice run <id>\) or start one/],
    [["deploy"], /unknown command 'deploy'/],
    [
      ["alarm", "set", "wave-1", "--state", "RED"],
      /argument 'RED' is invalid\. Allowed choices are OK, ALARM, INSUFFICIENT_DATA/,
    ],
    [["alarm", "set", "wave-1"], /required option '--state <state>' not specified/],
  ])("refuses %j with one line on stderr and exit code 1", async (args, message) => {
    const { code, stdout, stderr } = await sluice(...args);

    expect({ code, stdout }).toEqual({ code: 1, stdout: "" });
    expect(stderr).toMatch(/^sluice: [^\n]+\n$/);
    expect(stderr).toMatch(message);
  });

  const RUN = "01J00000000000000000000000";
  it.each([
    ["push", ["b.zip", "--app", "hello", "--version", "1.0.0"]],
    ["run start", ["--app", "hello", "--version", "1.0.0"]],
    ["run stop", [RUN]],
    ["run retry", [RUN]],
    ["release", ["hello", "1.0.0", "--yes"]],
    ["rollback", ["hello", "--to", "1.0.0", "--yes"]],
    ["override", [RUN, "--reason", "the fix"]],
    ["freeze", ["hello", "--until", "1d", "--reason", "holidays"]],
    ["unfreeze", ["hello", "--reason", "back"]],
    ["apps put", ["hello", "hello.yml"]],
    ["apps webhook-secret", ["hello"]],
  ])(
    "refuses %s with a token before sending anything, and says what a token is for",
    async (command, args) => {
      const { code, stdout, stderr } = await sluice(
        ...command.split(" "),
        ...args,
        "--token",
        "a-person's-token",
      );

      expect({ code, stdout }).toEqual({ code: 1, stdout: "" });
      expect(stderr).toBe(
        `sluice: ${command} is an operator command: it needs AWS credentials, not a token. A token (--token, SLUICE_TOKEN) only reads and decides an approval: sluice approve <run> or sluice reject <run> --reason <why>\n`,
      );
    },
  );

  it.each([
    ["approve", RUN],
    ["reject", RUN, "--reason", "not today"],
    ["run", "approve", RUN],
  ])("lets %j decide with a token: it goes on to the API", async (...args) => {
    const { code, stderr } = await sluice(...args, "--token", "a-person's-token");

    expect(code).toBe(1);
    expect(stderr).toMatch(/^sluice: cannot reach the Sluice API at http:\/\/127\.0\.0\.1:1: /);
  });

  it("says which API it could not reach", async () => {
    const { code, stderr } = await sluice("runs", "--app", "hello");

    expect(code).toBe(1);
    expect(stderr).toMatch(/^sluice: cannot reach the Sluice API at http:\/\/127\.0\.0\.1:1: /);
  });
});
