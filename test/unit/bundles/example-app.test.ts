import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { HOOK_NAMES } from "../../../domain/bundles/appspec";
import { extractBundle } from "../../../domain/bundles/extract";
import { inspectBundle } from "../../../domain/bundles/inspect";
import { FORMATS, packDirectory, useTempDirs } from "../../support/bundles";
import { freePorts } from "../../support/ports";

const run = promisify(execFile);
const EXAMPLE = join(dirname(fileURLToPath(import.meta.url)), "../../../examples/hello-service");
const tempDir = useTempDirs();

describe.each(FORMATS)("the hello-service example packed as %s", (format) => {
  const stops: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()));
  });

  it("passes inspection with its four hooks", async () => {
    // Prepare
    const file = await packDirectory(EXAMPLE, join(await tempDir(), `hello.${format}`), format);

    // Act
    const inspection = await inspectBundle(file, format);

    // Assess
    const hooks = inspection.appspec.hooks ?? {};
    expect(HOOK_NAMES.filter((hook) => hooks[hook] !== undefined)).toEqual([
      "ApplicationStop",
      "BeforeInstall",
      "ApplicationStart",
      "ValidateService",
    ]);
    expect(inspection.appspec.files).toEqual([{ source: "/", destination: "/srv/hello-service" }]);
  });

  it("unpacks, starts, passes validation, answers, and stops with its own hook scripts", async () => {
    // Prepare
    const file = await packDirectory(EXAMPLE, join(await tempDir(), `hello.${format}`), format);
    const appDir = join(await tempDir(), "srv");
    await extractBundle(file, format, appDir);
    const [port] = await freePorts(1);
    const env = { ...process.env, APP_DIR: appDir, PORT: String(port), NODE: process.execPath };
    const hook = (script: string) =>
      run(join(appDir, "scripts", script), [], { env, timeout: 60_000 });
    stops.push(() => hook("stop.sh"));
    const version = (await readFile(join(EXAMPLE, "VERSION"), "utf8")).trim();

    // Act
    await hook("before-install.sh");
    await hook("start.sh");
    const validation = await hook("validate.sh");
    const health = await (await fetch(`http://127.0.0.1:${port}/health`)).json();
    const hello = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    await hook("stop.sh");

    // Assess
    expect(validation.stdout).toContain("healthy");
    expect(health).toEqual({ status: "ok", version });
    expect(hello).toContain(`hello-service ${version}`);
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  });
});
