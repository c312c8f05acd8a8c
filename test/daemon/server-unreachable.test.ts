/**
 * A server that goes down in the middle of a cycle (restarting, unreachable): downloads that
 * cannot even connect say the server is down, not that the file is bad. Like a failed listing,
 * the first one stops the source's claiming, so the other ready files do not each spend attempts
 * (with a short backoff they were retried until parked: a restart that took ~12 s parked files in
 * daemon-faults). Embedded server behind the fault proxy, which refuses and resets connections
 * while "down".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FTPDaemon } from '../../src/daemon/daemon.js';
import type { FailedEvent } from '../../src/daemon/events.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { sha256File, sha256Hex } from '../helpers/hash.js';
import { scaled, sleep } from '../helpers/wait.js';
import { payload, rig } from './helpers/setup.js';

const FILES = 16;
const SLOTS = 2;
const MAX_ATTEMPTS = 2;

test('a server down mid-cycle: claiming stops at the first download that cannot connect, no file is parked', async (t) => {
  const r = await rig(t);
  const sums = new Map<string, string>();
  for (let i = 0; i < FILES; i++) {
    const name = `f${String(i).padStart(2, '0')}.BUFR`;
    const bytes = payload(i, 20_000);
    r.put(`/data/${name}`, bytes);
    sums.set(name, sha256Hex(bytes));
  }
  // Every control reply and data chunk relayed 20 ms late: transfers are still running when the
  // server goes down after the first file.
  const proxy = await startFaultProxy({
    upstreamHost: r.server.host,
    upstreamPort: r.server.port,
    delayMs: 20,
  });
  t.after(() => proxy.stop());
  const d = new FTPDaemon(
    r.config({
      host: proxy.host,
      port: proxy.port,
      maxConcurrentDownloads: SLOTS,
      maxConnections: SLOTS,
      maxAttempts: MAX_ATTEMPTS,
      backoff: { initialDelay: 0.01, maxDelay: 0.01, jitter: 0 },
    }),
    { onFileDownloaded: (_local, info) => void callbacks.push(info.remotePath) },
  );
  t.after(() => d.stop());
  const callbacks: string[] = [];
  let down = false;
  const failures: { down: boolean; text: string }[] = [];
  const note = (e: FailedEvent): void => {
    failures.push({ down, text: `${e.remotePath} #${e.attempts} ${e.error.message}` });
  };
  d.on('retry', note);
  d.on('failed', note);
  d.on('downloaded', () => {
    if (down) return;
    down = true;
    proxy.setRules({ refuse: true });
    proxy.resetAll();
  });

  // The cycle in which the server goes down, then two more while it is down (their listings
  // fail), then cycles with the server back until every file is settled.
  let cyclesDown = 0;
  const deadline = Date.now() + scaled(60_000);
  let counts = await d.runOnce().then(() => d.ledger!.counts());
  while (counts.processed + counts.failed < FILES && Date.now() < deadline) {
    if (down && ++cyclesDown === 3) proxy.setRules({ refuse: false });
    await sleep(20);
    await d.runOnce();
    counts = await d.ledger!.counts();
  }
  const parked = await d.ledger!.recent({ states: ['failed'], limit: FILES });
  const whileDown = failures.filter((f) => f.down);
  const seen = JSON.stringify({
    counts,
    cyclesDown,
    parked: parked.map((p) => `${p.remotePath} ${p.attempts} ${p.lastError ?? ''}`),
    failuresWhileDown: whileDown.map((f) => f.text),
  });
  assert.ok(down, `the server went down after the first download: ${seen}`);
  assert.deepEqual(parked, [], seen);
  assert.equal(counts.processed, FILES, seen);
  // The transfers in flight when it went down fail, and at most one claim per slot finds the
  // server gone before claiming stops; the other files wait (without the pause: every one of the
  // ~14 ready files failed, again and again, until parked).
  assert.ok(whileDown.length <= 3 * SLOTS, `${whileDown.length} failed attempts while down: ${seen}`);
  assert.deepEqual([...callbacks].sort(), [...sums.keys()].map((n) => `/data/${n}`).sort());
  for (const [name, sum] of sums) assert.equal(sha256File(join(r.local, name)), sum, name);
});
