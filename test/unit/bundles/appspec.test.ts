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
  BeforeInstall:
    - location: scripts/install.sh
  ApplicationStart:
    - location: scripts/start.sh
      timeout: 3570
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
        BeforeInstall: [{ location: "scripts/install.sh", timeout: 3600 }],
        ApplicationStart: [
          { location: "scripts/start.sh", timeout: 3570 },
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

  it("refuses the scripts of one hook that add up to more than 3600 s, naming hook and total", () => {
    // Prepare
    const text = `version: 0.0
os: linux
hooks:
  ValidateService:
    - location: check-a.sh
      timeout: 3000
    - location: check-b.sh
      timeout: 700
`;

    // Act
    const error = rejectionOf(text);

    // Assess
    expect(error.code).toBe("INVALID_APPSPEC");
    expect(error.message).toContain("hook ValidateService");
    expect(error.message).toContain("3700 s");
    expect(error.message).toContain("3600 s");
  });

  it("counts a script without timeout as 3600 s towards its hook's total", () => {
    // Prepare
    const text = `version: 0.0
os: linux
hooks:
  ApplicationStart:
    - location: start.sh
    - location: warm-up.sh
      timeout: 30
`;

    // Act
    const error = rejectionOf(text);

    // Assess
    expect(error.code).toBe("INVALID_APPSPEC");
    expect(error.message).toContain("hook ApplicationStart");
    expect(error.message).toContain("3630 s");
    expect(error.message).toContain("without timeout");
  });

  it("accepts scripts of one hook that add up to exactly 3600 s, and 3600 s in each hook", () => {
    // Prepare
    const text = `version: 0.0
os: linux
hooks:
  BeforeInstall:
    - location: a.sh
      timeout: 3000
    - location: b.sh
      timeout: 600
  AfterInstall:
    - location: c.sh
`;

    // Act
    const spec = parseAppSpec(text);

    // Assess
    expect(spec.hooks?.BeforeInstall?.map((script) => script.timeout)).toEqual([3000, 600]);
    expect(spec.hooks?.AfterInstall?.[0]?.timeout).toBe(3600);
  });

  const withRunas = (os: string, runas: string): string =>
    `version: 0.0\nos: ${os}\nhooks:\n  ApplicationStart:\n    - location: start.sh\n      runas: ${JSON.stringify(runas)}\n`;

  it.each([
    ["shell syntax", "app; rm -rf /"],
    ["what su would read as an option", "-c"],
    ["upper-case letters", "Admin"],
    ["a leading digit", "1app"],
    ["more than 32 characters", `a${"b".repeat(32)}`],
  ])("refuses a runas user name with %s", (_, runas) => {
    // Act
    const error = rejectionOf(withRunas("linux", runas));

    // Assess
    expect(error.code).toBe("INVALID_APPSPEC");
    expect(error.message).toContain("hooks.ApplicationStart[0].runas");
    expect(error.message).toContain("user name");
  });

  it.each(["app", "_svc", "www-data", `a${"b".repeat(31)}`])(
    "accepts the runas user name %s on linux",
    (runas) => {
      // Act
      const spec = parseAppSpec(withRunas("linux", runas));

      // Assess
      expect(spec.hooks?.ApplicationStart?.[0]?.runas).toBe(runas);
    },
  );

  it("refuses runas when os is windows, where CodeDeploy does not support it", () => {
    // Act
    const error = rejectionOf(withRunas("windows", "app"));

    // Assess
    expect(error.code).toBe("INVALID_APPSPEC");
    expect(error.message).toContain("hooks.ApplicationStart[0].runas");
    expect(error.message).toContain("windows");
  });

  it.each([
    [
      "a relative files destination",
      "files:\n  - source: /\n    destination: srv/app\n",
      'files[0].destination: "srv/app" is not an absolute path',
    ],
    [
      "a relative permissions object",
      "permissions:\n  - object: /srv/app\n  - object: srv/app/logs\n    mode: 755\n",
      'permissions[1].object: "srv/app/logs" is not an absolute path',
    ],
  ])("refuses %s on linux", (_, body, reason) => {
    // Act
    const error = rejectionOf(`version: 0.0\nos: linux\n${body}`);

    // Assess
    expect(error.code).toBe("INVALID_APPSPEC");
    expect(error.message).toContain(reason);
  });

  it("accepts Windows drive paths as destination and object when os is windows", () => {
    // Prepare
    const text = `version: 0.0
os: windows
files:
  - source: site
    destination: 'C:\\inetpub\\wwwroot'
permissions:
  - object: 'C:\\inetpub\\wwwroot'
hooks:
  AfterInstall:
    - location: scripts/configure.ps1
      timeout: 300
`;

    // Act
    const spec = parseAppSpec(text);

    // Assess
    expect(spec.files).toEqual([{ source: "site", destination: "C:\\inetpub\\wwwroot" }]);
    expect(spec.permissions).toEqual([{ object: "C:\\inetpub\\wwwroot" }]);
  });

  it("refuses text that is not YAML", () => {
    // Act
    const error = rejectionOf("version: 0.0\nos: [linux\n");

    // Assess
    expect(error.code).toBe("INVALID_APPSPEC");
    expect(error.message).toContain("not valid YAML");
  });
});
