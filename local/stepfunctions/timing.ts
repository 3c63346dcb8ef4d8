import { setTimeout as delay } from "node:timers/promises";

/**
 * Test hooks that shorten time without changing the ASL: each scale multiplies what it names
 * (1 = as written). `waitScale`: Wait states (a Timestamp's remaining time too); `retryScale`:
 * Retry intervals and their MaxDelaySeconds; `taskTimeoutScale`: TimeoutSeconds and
 * HeartbeatSeconds of Tasks and the state machine's own TimeoutSeconds.
 */
export interface Timing {
  waitScale?: number;
  retryScale?: number;
  taskTimeoutScale?: number;
  /**
   * The longest timer handed to aws-local-stepfunctions, in seconds (by default the most Node
   * allows, about 24.8 days); a Wait or task-token wait outlasting it is carried on in a new
   * run of its state. Tests lower it to see that happen.
   */
  libraryTimerSeconds?: number;
}

export interface Scales {
  wait: number;
  retry: number;
  taskTimeout: number;
  libraryTimerSeconds: number;
}

export function scalesOf(timing: Timing | undefined): Scales {
  const scale = (value: number | undefined, name: string) => {
    if (value === undefined) return 1;
    if (!Number.isFinite(value) || value < 0) throw new Error(`timing.${name} must be >= 0`);
    return value;
  };
  return {
    wait: scale(timing?.waitScale, "waitScale"),
    retry: scale(timing?.retryScale, "retryScale"),
    taskTimeout: scale(timing?.taskTimeoutScale, "taskTimeoutScale"),
    libraryTimerSeconds: Math.min(
      timing?.libraryTimerSeconds ?? LIBRARY_SAFE_SECONDS,
      LIBRARY_SAFE_SECONDS,
    ),
  };
}

/** Reads the scales of a stack run as its own process (`npm start`, tests that SIGKILL it). */
export function timingFromEnv(env: NodeJS.ProcessEnv): Timing {
  const read = (name: string) => {
    const text = env[name];
    if (text === undefined || text === "") return undefined;
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number >= 0`);
    return value;
  };
  const waitScale = read("SLUICE_LOCAL_WAIT_SCALE");
  const retryScale = read("SLUICE_LOCAL_RETRY_SCALE");
  const taskTimeoutScale = read("SLUICE_LOCAL_TASK_TIMEOUT_SCALE");
  return {
    ...(waitScale !== undefined ? { waitScale } : {}),
    ...(retryScale !== undefined ? { retryScale } : {}),
    ...(taskTimeoutScale !== undefined ? { taskTimeoutScale } : {}),
  };
}

/** Node's timers fire at once past this many milliseconds, so longer sleeps are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The longest TimeoutSeconds or retry delay aws-local-stepfunctions can be handed, whose timers
 * are plain setTimeout calls; real timeouts are enforced here with chained timers.
 */
const LIBRARY_SAFE_SECONDS = Math.floor(MAX_TIMER_MS / 1000);

/** Resolves at `deadline` (epoch ms), however far away; rejects with the signal's reason. */
export async function sleepUntil(deadline: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  for (let left = deadline - Date.now(); left > 0; left = deadline - Date.now()) {
    await delay(Math.min(left, MAX_TIMER_MS), undefined, { signal });
  }
}
