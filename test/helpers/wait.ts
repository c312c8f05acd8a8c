/** Waiting in tests: one `sleep`, one bounded poll. */
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/**
 * Polls `probe` every `intervalMs` until it returns a value (not undefined), or throws at
 * `deadline` (epoch ms) naming `what`. The loop is bounded even if the clock stands still.
 */
export async function waitUntil<T>(
  what: string,
  deadline: number,
  probe: () => T | undefined | Promise<T | undefined>,
  intervalMs = 100,
): Promise<T> {
  for (let i = 0; i < 1_000_000; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() >= deadline) break;
    await sleep(intervalMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}
