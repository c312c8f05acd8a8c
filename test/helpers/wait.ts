/** Waiting in tests: one `sleep`, one bounded poll, and how far deadlines stretch under load. */
import { availableParallelism, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/**
 * How many times longer than on a quiet machine a test may wait for wall-clock work (a child's
 * start-up, a browser's refresh, a demo's first volume): RADARLIB_TEST_TIME_SCALE when set, else
 * the load average per core at start, between 1 and 4. Only deadlines stretch, never what a test
 * asserts.
 */
export const TIME_SCALE = timeScale(process.env['RADARLIB_TEST_TIME_SCALE']);

function timeScale(fromEnv: string | undefined): number {
  if (fromEnv !== undefined && fromEnv !== '') {
    const v = Number(fromEnv);
    if (!Number.isFinite(v) || v < 1)
      throw new Error(`RADARLIB_TEST_TIME_SCALE must be a number >= 1, got ${fromEnv}`);
    return v;
  }
  const perCore = (loadavg()[0] ?? 0) / availableParallelism();
  return Math.min(4, Math.max(1, perCore));
}

/** `ms` stretched by TIME_SCALE: for deadlines and test timeouts, never for asserted durations. */
export function scaled(ms: number): number {
  return Math.round(ms * TIME_SCALE);
}

/** How `waitUntil` polls, and what it reports when it gives up. */
export interface WaitOptions {
  /** Pause between probes. @default 100 */
  intervalMs?: number;
  /**
   * What the test saw at the timeout (log tails, ledger rows, files), appended to the error, so
   * that a failure on CI can be diagnosed from its output alone. Its own failure is reported too.
   */
  seen?: () => string | Promise<string>;
}

/**
 * Polls `probe` every `intervalMs` until it returns a value (not undefined), or throws at
 * `deadline` (epoch ms) naming `what`, how long it waited and, with `seen`, what it saw. The
 * loop is bounded even if the clock stands still.
 */
export async function waitUntil<T>(
  what: string,
  deadline: number,
  probe: () => T | undefined | Promise<T | undefined>,
  options: number | WaitOptions = {},
): Promise<T> {
  const { intervalMs = 100, seen } = typeof options === 'number' ? { intervalMs: options } : options;
  const started = Date.now();
  let probes = 0;
  for (let i = 0; i < 1_000_000; i++) {
    probes++;
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() >= deadline) break;
    await sleep(intervalMs);
  }
  let message = `timed out waiting for ${what} (${Date.now() - started} ms, ${probes} probes)`;
  if (seen !== undefined) {
    let text: string;
    try {
      text = await seen();
    } catch (err) {
      text = `(could not describe it: ${err instanceof Error ? err.message : String(err)})`;
    }
    message += `; seen:\n${text}`;
  }
  throw new Error(message);
}
