/** src/daemon/backoff.ts: retry delays grow, are capped, and keep at least (1 - jitter) of the delay. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelayMs, type BackoffOptions } from '../../src/daemon/backoff.js';

const options: BackoffOptions = { initialDelay: 1, maxDelay: 10, multiplier: 2, jitter: 0.5 };

test('without jitter the delay doubles per attempt up to maxDelay', () => {
  const delays = [1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelayMs(options, n, 0));
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
});

test('jitter takes at most its fraction off, never more', () => {
  assert.equal(backoffDelayMs(options, 3, 0.999_999), 2000);
  assert.equal(backoffDelayMs(options, 3, 0.5), 3000);
  assert.equal(backoffDelayMs({ ...options, jitter: 0 }, 3, 0.9), 4000);
  for (let i = 0; i < 200; i++) {
    const d = backoffDelayMs(options, 4);
    assert.ok(d >= 4000 && d <= 8000, `${d}`); // rounded to whole ms: 4000 is reachable
  }
});

test('odd inputs are clamped: attempt < 1 and fractional attempts, random outside [0, 1)', () => {
  assert.equal(backoffDelayMs(options, 0, 0), 1000);
  assert.equal(backoffDelayMs(options, -3, 0), 1000);
  assert.equal(backoffDelayMs(options, 2.9, 0), 2000);
  assert.equal(backoffDelayMs(options, 1, -1), 1000);
  assert.equal(backoffDelayMs(options, 1, 7), 500);
});

test('seconds with fractions round to whole milliseconds', () => {
  assert.equal(backoffDelayMs({ initialDelay: 0.0015, maxDelay: 1, multiplier: 3, jitter: 0 }, 2, 0), 5);
});
