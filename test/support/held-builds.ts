import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { waitFor } from "./local-stack";

/** How long a held build waits for the gate before it gives up and fails (a safety net only). */
const GATE_SECONDS = 60;

/** One build that reached the gate: which run it was and the commit its clone had checked out. */
export interface Arrival {
  runId: string;
  commit: string;
}

/**
 * Build commands that hold every build of an app until the test opens a gate (a file the
 * builds poll for, with a bounded wait), so a run is certainly still in progress while the
 * test sends the next ones. Each build first notes its run id and `git rev-parse HEAD` in an
 * arrival log, in the order the builds got there.
 */
export class BuildGate {
  private constructor(readonly dir: string) {}

  static async create(): Promise<BuildGate> {
    return new BuildGate(await mkdtemp(path.join(tmpdir(), "sluice-gate-")));
  }

  /** The pipeline definition's `build` section. */
  get build() {
    return {
      env: { SLUICE_TEST_GATE: this.dir },
      commands: [
        'echo "$SLUICE_RUN_ID $(git rev-parse HEAD)" >> "$SLUICE_TEST_GATE/arrivals"',
        `timeout ${GATE_SECONDS} bash -c 'until test -e "$SLUICE_TEST_GATE/open"; do sleep 0.05; done'`,
      ],
    };
  }

  /** Lets every held build, and every later one, through. */
  async open(): Promise<void> {
    await writeFile(path.join(this.dir, "open"), "");
  }

  /** The builds that have reached the gate so far, first come first. */
  async arrivals(): Promise<Arrival[]> {
    let text: string;
    try {
      text = await readFile(path.join(this.dir, "arrivals"), "utf8");
    } catch {
      return [];
    }
    return text
      .split("\n")
      .filter((line) => /^\S+ [0-9a-f]{40}$/.test(line))
      .map((line) => {
        const [runId = "", commit = ""] = line.split(" ");
        return { runId, commit };
      });
  }

  /** Waits until at least `count` builds have reached the gate. */
  async waitForArrivals(count: number, timeoutMs = 20_000): Promise<Arrival[]> {
    return waitFor(
      async () => {
        const arrivals = await this.arrivals();
        return arrivals.length >= count ? arrivals : undefined;
      },
      { what: `${count} build(s) to reach the gate`, timeoutMs },
    );
  }

  /** Opens the gate (so no build is left waiting on it) and removes its folder. */
  async cleanup(): Promise<void> {
    await this.open();
    await rm(this.dir, { recursive: true, force: true });
  }
}
