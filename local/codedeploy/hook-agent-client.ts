import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { AgentReply, AgentRequest } from "./hook-agent";

const AGENT_FILE = fileURLToPath(new URL("./hook-agent.ts", import.meta.url));
/** Node 22 runs a .ts file by stripping its types: on by default from 22.18, a flag before. */
const STRIP_TYPES = ["--experimental-strip-types", "--disable-warning=ExperimentalWarning"];

interface Pending {
  started(pid: number): void;
  /** `lingering`: the agent found the hook's group outlived it; unknown when the agent died. */
  ended(exitCode: number | null, logTail: string, error?: string, lingering?: boolean): void;
}

/**
 * The stack's side of hook-agent.ts: starts the agent on the first hook, hands it each hook and
 * routes its answers back. An agent that dies ends the hooks it was running as failed to start
 * (their groups are noted and killed as any other); the next hook starts a new agent.
 */
export class HookAgent {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  /** Starts the agent now, so the first hook does not wait for a Node process to start. */
  warm(): void {
    this.agent();
  }

  start(request: Omit<AgentRequest, "id">, pending: Pending): void {
    const id = this.nextId++;
    const child = this.agent();
    this.pending.set(id, pending);
    child.channel?.ref();
    child.send({ id, ...request } satisfies AgentRequest, (error) => {
      if (error) this.settle(id, null, "", `the hook agent did not take it: ${error.message}`);
    });
  }

  /** Ends the agent; hooks it was running end with it as failed. */
  close(): void {
    const child = this.child;
    this.child = undefined;
    child?.kill("SIGKILL");
    for (const id of [...this.pending.keys()]) this.settle(id, null, "", "the hook agent stopped");
  }

  private agent(): ChildProcess {
    if (this.child) return this.child;
    const { NODE_OPTIONS: _, ...env } = process.env;
    const child = spawn(process.execPath, [...STRIP_TYPES, AGENT_FILE], {
      env,
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    child.on("message", (reply: AgentReply) => {
      if ("started" in reply) this.pending.get(reply.id)?.started(reply.started);
      else this.settle(reply.id, reply.exitCode, reply.logTail, reply.error, reply.lingering);
    });
    child.on("exit", () => {
      if (this.child !== child) return;
      this.child = undefined;
      for (const id of [...this.pending.keys()]) this.settle(id, null, "", "the hook agent ended");
    });
    // Only hooks in flight keep the process alive, not an idle agent.
    child.unref();
    child.channel?.unref();
    this.child = child;
    return child;
  }

  /** Whether no hook is with the agent: it then writes nothing to the journal. */
  get idle(): boolean {
    return this.pending.size === 0;
  }

  private settle(
    id: number,
    exitCode: number | null,
    logTail: string,
    error?: string,
    lingering?: boolean,
  ): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    if (this.pending.size === 0) this.child?.channel?.unref();
    pending.ended(exitCode, logTail, error, lingering);
  }
}
