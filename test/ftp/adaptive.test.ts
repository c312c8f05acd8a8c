/** The `maxConcurrent: 'auto'` controller (src/ftp/adaptive.ts), fed synthetic throughput. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdaptiveConcurrency } from '../../src/ftp/adaptive.js';
import { loginTo } from '../helpers/ftp-login.js';

/** Feeds one window: `n` completions, `bytes` in total, over `ms`; returns the new concurrency. */
function window(c: AdaptiveConcurrency, t: { now: number }, bytes: number, ms: number, limit = 100): number {
  let next = c.concurrency;
  const n = c.concurrency;
  for (let i = 0; i < n; i++) {
    c.addBytes(bytes / n);
    t.now += ms / n;
    next = c.fileDone(limit, t.now);
  }
  return next;
}

test('grows while throughput rises, then holds', () => {
  const t = { now: 0 };
  const c = new AdaptiveConcurrency({ cap: 16, initial: 4 }, t.now);
  assert.equal(c.concurrency, 4);
  // throughput proportional to concurrency until 9, flat after: 4 -> 8 -> 16, flat -> hold
  for (let i = 0; i < 10 && !c.settled; i++) window(c, t, Math.min(c.concurrency, 9) * 1e6, 1000);
  assert.equal(c.settled, true);
  assert.ok(c.concurrency >= 9 && c.concurrency <= 16, `settled at ${c.concurrency}`);
  assert.deepEqual(
    c.steps.map((s) => s.reason),
    ['start', 'grow', 'grow', 'hold'],
  );
});

test('starts at 16 (a 48-file batch on a 50 ms link ends before a ramp from 8 pays off), or the cap', () => {
  assert.equal(new AdaptiveConcurrency({ cap: 16 }).concurrency, 16);
  assert.equal(new AdaptiveConcurrency({ cap: 32 }).concurrency, 16);
  assert.equal(new AdaptiveConcurrency({ cap: 5 }).concurrency, 5);
});

test('decides per window of time, not per round of files: half the transfers ending is enough', () => {
  const t = { now: 0 };
  const c = new AdaptiveConcurrency({ cap: 32, initial: 8 }, t.now);
  for (let i = 0; i < 3; i++) {
    c.addBytes(1e6);
    t.now += 200;
    c.fileDone(100, t.now);
  }
  assert.equal(c.concurrency, 8, 'not before MIN_WINDOW_MS and half of them');
  c.addBytes(1e6);
  t.now += 200;
  assert.equal(c.fileDone(100, t.now), 16);
});

test('never above the cap', () => {
  const t = { now: 0 };
  const c = new AdaptiveConcurrency({ cap: 6 }, t.now);
  for (let i = 0; i < 10; i++) window(c, t, c.concurrency * 1e6 * (i + 1), 1000);
  assert.equal(c.concurrency, 6);
});

test('a lowered server limit (421) is a signal: hold at what the server accepted', () => {
  const t = { now: 0 };
  const c = new AdaptiveConcurrency({ cap: 16, initial: 4 }, t.now);
  window(c, t, 4e6, 1000);
  assert.equal(c.concurrency, 8);
  assert.equal(c.fileDone(3, t.now + 10), 3);
  assert.equal(c.settled, true);
  assert.equal(c.steps.at(-1)?.reason, 'server-limit');
  // no growth afterwards, whatever the throughput
  window(c, t, 100e6, 1000, 3);
  assert.equal(c.concurrency, 3);
});

test('rejects a bad cap', () => {
  assert.throws(() => new AdaptiveConcurrency({ cap: 0 }), RangeError);
});

test("downloadFiles 'auto' against a server capped at 3 connections: 421s are no failures", async () => {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { makeRadarDataset } = await import('../helpers/dataset.js');
  const { startEmbeddedFtp } = await import('../helpers/embedded-ftp.js');
  const { AsyncFTPClient } = await import('../../src/ftp/client.js');
  const dir = await mkdtemp(join(tmpdir(), 'radarlib-auto-'));
  const server = await startEmbeddedFtp({ root: join(dir, 'data'), maxConnections: 3 }).catch(
    async (e: unknown) => {
      await rm(dir, { recursive: true, force: true });
      throw e;
    },
  );
  try {
    await makeRadarDataset(join(dir, 'data'), {
      volumes: 5,
      layout: 'flat',
      sizeMin: 5_000,
      sizeMax: 50_000,
    });
    const client = new AsyncFTPClient(loginTo(server));
    try {
      const entries = await client.listEntries('/');
      const batch = await client.downloadFiles(entries, join(dir, 'out'), { maxConcurrent: 'auto' });
      assert.equal(batch.failures.length, 0, batch.failures.map((f) => f.error.message).join('; '));
      assert.equal(batch.length, entries.length);
      // the pool learned the server's cap (connections past it were refused with 421)
      assert.ok(client.poolStats.limit <= 3, `limit ${client.poolStats.limit}`);
      assert.ok(client.poolStats.peakBusy <= 3, `peak ${client.poolStats.peakBusy}`);
      assert.equal(batch.concurrency?.[0]?.reason, 'start');
    } finally {
      await client.disconnect();
    }
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
