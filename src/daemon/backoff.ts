/**
 * Retry delays: exponential backoff with jitter, capped.
 *
 *   delay(n) = min(maxDelay, initialDelay * multiplier^(n-1)) * (1 - jitter * random)
 *
 * "Full" jitter would spread retries over [0, delay]; we keep at least (1 - jitter) of the delay
 * so a flapping server is never hammered, yet many files failing together do not retry in step.
 */
export interface BackoffOptions {
  /** Seconds before the first retry. */
  initialDelay: number;
  /** Upper bound in seconds. */
  maxDelay: number;
  multiplier: number;
  /** Fraction of the delay that is randomised, 0..1. */
  jitter: number;
}

/**
 * Milliseconds to wait after the `attempt`-th failed attempt (1-based).
 * @param random a number in [0, 1) (injectable for tests).
 */
export function backoffDelayMs(
  options: BackoffOptions,
  attempt: number,
  random: number = Math.random(),
): number {
  const n = Math.max(1, Math.floor(attempt));
  const base = Math.min(options.maxDelay, options.initialDelay * options.multiplier ** (n - 1));
  const r = Math.min(Math.max(random, 0), 1);
  return Math.round(base * 1000 * (1 - options.jitter * r));
}
