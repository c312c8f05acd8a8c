/** The daemon's own load measures: events per minute, and the rate of a growing counter. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CounterRate, RateWindow } from '../../src/daemon/rate.js';

test('CounterRate: the increase over the last minute, per minute; younger counters over their age', () => {
  const t0 = 1_000_000;
  const rate = new CounterRate(t0, 500); // a client that had sent 500 commands before
  assert.equal(rate.perMinute(t0 + 100, 500), 0);
  // 30 commands in the first 30 s: 60 per minute (measured over the 30 s so far).
  for (let s = 1; s <= 30; s++) rate.sample(t0 + s * 1000, 500 + s);
  assert.equal(rate.perMinute(t0 + 30_000, 530), 60);
  // Then 2 a second for two minutes: only the last minute counts.
  for (let s = 31; s <= 150; s++) rate.sample(t0 + s * 1000, 530 + (s - 30) * 2);
  assert.equal(rate.perMinute(t0 + 150_000, 770), 120);
  // Quiet for a minute: back to 0.
  assert.equal(rate.perMinute(t0 + 211_000, 770), 0);
});

test('CounterRate: several samples within one second keep where counting began', () => {
  const rate = new CounterRate(0, 0);
  rate.sample(200, 10);
  rate.sample(600, 20);
  rate.sample(900, 30);
  // 30 in under a second, reported over at least one second.
  assert.equal(rate.perMinute(950, 30), 30 * 60);
});

test('RateWindow: events per minute over a sliding window', () => {
  const w = new RateWindow();
  w.add(3, 1000);
  w.add(2, 30_000);
  assert.equal(w.total(30_000), 5);
  assert.equal(w.total(61_500), 2, 'the first slot left the window');
  assert.equal(w.perMinute(30_000, 0), 10, 'over the 30 s since counting began');
});
