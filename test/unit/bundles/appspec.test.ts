import { describe, expect, it } from "vitest";
import { HOOK_NAMES, parseAppSpec } from "../../../domain/bundles/appspec";
import { BundleRejectedError } from "../../../domain/bundles/rejection";

function rejectionOf(text: string): BundleRejectedError {
  try {
    parseAppSpec(text);
  } catch (error) {
    if (error instanceof BundleRejectedError) return error;
    throw error;
  }
  throw new Error("expected parseAppSpec to reject");
}

const COMPLETE = `version: 0.0
os: linux
files:
  - source: /
    destination: /srv/hello-service
permissions:
  - object: /srv/hello-service
    pattern: "**"
    except: [scripts]
    owner: app
    group: app
    mode: 644
    type: [file]
hooks:
  ApplicationStop:
    - location: scripts/stop.sh
      timeout: 60
      runas: app
  ApplicationStart:
    - location: scripts/start.sh
    - location: scripts/warm-up.sh
      timeout: 30
`;

describe("parseAppSpec", () => {
  it("reads CodeDeploy's EC2 appspec, filling the default hook timeout of 3600 s", () => {
    // Act
    const spec = parseAppSpec(COMPLETE);

    // Assess
    expect(spec).toEqual({
      version: "0.0",
      os: "linux",
      files: [{ source: "/", destination: "/srv/hello-service" }],
      permissions: [
        {
          object: "/srv/hello-service",
          pattern: "**",
          except: ["scripts"],
          owner: "app",
          group: "app",
          mode: "644",
          type: ["file"],
        },
      ],
      hooks: {
        ApplicationStop: [{ location: "scripts/stop.sh", timeout: 60, runas: "app" }],
        ApplicationStart: [
          { location: "scripts/start.sh", timeout: 3600 },
          { location: "scripts/warm-up.sh", timeout: 30 },
        ],
      },
    });
  });

  it('accepts the version written as the string "0.0"', () => {
    // Act
    const spec = parseAppSpec('version: "0.0"\nos: windows\n');

    // Assess
    expect(spec).toEqual({ version: "0.0", os: "windows" });
  });

  it("names an unknown hook and lists the allowed ones", () => {
    // Prepare
    const text = "version: 0.0\nos: linux\nhooks:\n  AfterStart:\n    - location: s.sh\n";

    // Act
    const error = rejectionOf(text);

    // Assess
    expect(error.code).toBe("INVALID_APPSPEC");
    expect(error.message).toContain('"AfterStart"');
    for (const hook of HOOK_NAMES) expect(error.message).toContain(hook);
  });

  it.each([
    ["a version other than 0.0", "version: 1\nos: linux\n", "version"],
    ["an unknown os", "version: 0.0\nos: macos\n", "os"],
    ["a missing os", "version: 0.0\n", "os"],
    [
      "a timeout over CodeDeploy's 3600 s",
      "version: 0.0\nos: linux\nhooks:\n  ApplicationStart:\n    - location: a.sh\n      timeout: 7200\n",
      "hooks.ApplicationStart[0].timeout",
    ],
    [
      "a hook script without location",
      "version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - timeout: 5\n",
      "hooks.BeforeInstall[0].location",
    ],
    [
      "a file without destination",
      "version: 0.0\nos: linux\nfiles:\n  - source: /\n",
      "files[0].destination",
    ],
    [
      "a non-octal mode",
      "version: 0.0\nos: linux\npermissions:\n  - object: /srv\n    mode: 999\n",
      "permissions[0].mode",
    ],
    ["an unknown top-level key", "version: 0.0\nos: linux\nresources: []\n", "resources"],
    ["an empty document", "", "(top level)"],
  ])("refuses %s, naming where", (_, text, where) => {
    // Act
    const error = rejectionOf(text);

    // Assess
    expect(error).toMatchObject({ name: "BundleRejectedError", code: "INVALID_APPSPEC" });
    expect(error.message).toContain(where);
  });

  it("refuses text that is not YAML", () => {
    // Act
    const error = rejectionOf("version: 0.0\nos: [linux\n");

    // Assess
    expect(error.code).toBe("INVALID_APPSPEC");
    expect(error.message).toContain("not valid YAML");
  });
});
