/**
 * The continuous pipeline (listing scheduler, download pool, callbacks with back-pressure), as
 * operators see it: slow callbacks, files appearing between polls, stops mid-pipeline. Untimed:
 * every wait is bounded by an event count, with a generous cap only so a broken build fails
 * instead of hanging.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { FTPDaemon } from '../../src/daemon/daemon.js';
import type { CycleEvent } from '../../src/daemon/events.js';
import { LOG_MESSAGES } from '../../src/observe/events.js';
import { openLedger } from '../../src/ledger/open.js';
import { statusReport, formatStatus } from '../../src/cli/commands/status.js';
import { latencyByRadar } from '../../src/observe/latency.js';
import { MTIME_PRECISION } from '../../src/ledger/ledger.js';
import { DaemonMetrics, METRIC_NAMES } from '../../src/web/metrics.js';
import { radarTreeFolder } from '../../src/radar/tree.js';
import { sha256File as sha256 } from '../helpers/hash.js';
import { HOT_RADAR_TREE, listLocal, payload, rig } from './helpers/setup.js';

/** Resolves once `predicate` holds (checked on every event of `daemon`), or rejects after `capMs`. */
function until(daemon: FTPDaemon, predicate: () => boolean, what: string, capMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (!predicate()) return;
      cleanup();
      resolve();
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`still waiting for ${what} after ${capMs} ms`));
    }, capMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      for (const e of ['processed', 'downloaded', 'cycle'] as const) daemon.off(e, check);
    };
    for (const e of ['processed', 'downloaded', 'cycle'] as const) daemon.on(e, check);
    check();
  });
}

/** A radar file name (`RMA1_0315_01_DBZH_20251020T152828Z.BUFR`) for a volume time. */
function volumeName(t: number): string {
  return `RMA1_0315_01_DBZH_${new Date(t).toISOString().replace(/[-:]/g, '').slice(0, 15)}Z.BUFR`;
}

function captureLogs(): { logger: pino.Logger; lines: { msg: string; [k: string]: unknown }[] } {
  const lines: { msg: string; [k: string]: unknown }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line !== '') lines.push(JSON.parse(line) as { msg: string });
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

test('a slow callback no longer stops downloads between polls: all files processed in one poll', async (t) => {
  const r = await rig(t);
  const n = 20;
  for (let i = 0; i < n; i++) r.put(`/data/f${String(i).padStart(2, '0')}.BUFR`, payload(i, 2000 + i));
  const { logger, lines } = captureLogs();
  const processed: string[] = [];
  let downloaded = 0;
  let maxUnprocessed = 0;
  let sawBottleneck = false;
  const cycles: CycleEvent[] = [];
  const d = new FTPDaemon(
    // One poll an hour: before, a cycle ended as soon as callbacks were behind, and the rest
    // waited for that next poll.
    r.config({ pollInterval: 3600, hotInterval: 0, callbackConcurrency: 1, maxConcurrentDownloads: 2 }),
    {
      logger,
      onFileDownloaded: async (path) => {
        // Far slower than a loopback download of 2 KB: the callbacks are the bottleneck.
        await new Promise((resolve) => setTimeout(resolve, 80));
        sawBottleneck ||= d.pipelineStats().sources[0]?.callbacksBottleneck === true;
        processed.push(path);
      },
    },
  );
  d.on('downloaded', () => {
    downloaded++;
    maxUnprocessed = Math.max(maxUnprocessed, downloaded - processed.length);
  });
  d.on('cycle', (e) => cycles.push(e));
  const running = d.run();
  t.after(() => d.stop());
  await until(d, () => processed.length === n, `${n} callbacks`);
  assert.equal(cycles.length, 1, 'one listing round only: the downloads did not wait for a poll');
  await d.stop();
  await running;

  assert.equal(new Set(processed).size, n, 'each file handed over once');
  for (let i = 0; i < n; i++) {
    const name = `f${String(i).padStart(2, '0')}.BUFR`;
    assert.equal(sha256(join(r.local, name)), sha256(join(r.root, 'data', name)));
  }
  // Back-pressure: downloads never ran far ahead of the callbacks (backlog 2, counting files still
  // being made durable, + 2 slots + 1 running).
  assert.ok(maxUnprocessed <= 5, `at most 5 files waited for a callback, saw ${maxUnprocessed}`);
  assert.ok(sawBottleneck, 'the bottleneck gauge was raised while callbacks were behind');
  const warnings = lines.filter((l) => l.msg === LOG_MESSAGES.callbacksBehind);
  assert.equal(warnings.length, 1, 'one warning, not one per file');
  assert.equal(warnings[0]?.['callbackConcurrency'], 1);
  assert.equal(typeof warnings[0]?.['callbacksPerMinute'], 'number');
  assert.equal(typeof warnings[0]?.['backlog'], 'number');
});

test('a file in a hot (flat) folder is taken without waiting for pollInterval, once it has settled', async (t) => {
  const r = await rig(t);
  r.put('/data/old.BUFR', payload(1, 500), new Date(Date.now() - 3_600_000));
  const cycles: CycleEvent[] = [];
  const sizes: number[] = [];
  // minAge one hour: only an unchanged second listing can make the new file ready.
  const d = new FTPDaemon(r.config({ pollInterval: 3600, hotInterval: 0.2, minAge: 3600 }), {
    onFileDownloaded: (_p, info) => void sizes.push(info.size),
  });
  d.on('cycle', (e) => cycles.push(e));
  const running = d.run();
  t.after(() => d.stop());
  await until(d, () => sizes.length === 1, 'the old file');
  r.put('/data/new.BUFR', payload(2, 7000));
  await until(d, () => sizes.length === 2, 'the new file');
  assert.equal(cycles.length, 1, 'taken by a hot listing, not by the next poll');
  const stats = d.pipelineStats().sources[0];
  assert.ok(stats !== undefined && stats.hot, 'hot rounds run');
  assert.ok(stats.listingsPerMinute > 1, `listings are measured (${stats.listingsPerMinute}/min)`);
  await d.stop();
  await running;
  assert.deepEqual(sizes, [500, 7000]);
  assert.equal(sha256(join(r.local, 'new.BUFR')), sha256(join(r.root, 'data', 'new.BUFR')));
});

test('a new minute folder in a radar tree is taken by a hot round, not the next poll', async (t) => {
  const r = await rig(t);
  const now = Date.now();
  const first = radarTreeFolder('/L2', 'RMA1', new Date(now - 120_000));
  r.put(`${first}/${volumeName(now - 120_000)}`, payload(3, 900), new Date(now - 120_000));
  const got: string[] = [];
  const cycles: CycleEvent[] = [];
  const d = new FTPDaemon(r.config({ ...HOT_RADAR_TREE, hotInterval: 0.2 }), {
    onFileDownloaded: (_p, info) => void got.push(info.remotePath),
  });
  d.on('cycle', (e) => cycles.push(e));
  const metrics = new DaemonMetrics({ defaultMetrics: false });
  metrics.attach(d);
  const running = d.run();
  t.after(() => d.stop());
  await until(d, () => got.length === 1, 'the first volume');
  const next = radarTreeFolder('/L2', 'RMA1', new Date(now - 60_000));
  r.put(`${next}/${volumeName(now - 60_000)}`, payload(4, 3000));
  await until(d, () => got.length === 2, 'the volume in the new minute folder');
  assert.equal(cycles.length, 1, 'found by a hot round');
  const scrape = await metrics.metrics();
  for (const stage of ['listed', 'ready', 'downloaded', 'processed', 'total'])
    assert.match(
      scrape,
      new RegExp(`${METRIC_NAMES.stageLatency}_count\\{source="[^"]+",stage="${stage}"\\} 2\\b`),
      `stage ${stage} observed for both files`,
    );
  assert.match(scrape, new RegExp(`${METRIC_NAMES.listingsPerMinute}\\{source="[^"]+"\\} [1-9]`));
  // Commands as the FTP client counted them (each listing is at least EPSV + LIST, logins aside).
  const counted = d.pipelineStats().sources[0];
  assert.ok(counted?.commandsPerMinute != null && counted.commandsPerMinute >= 2 * counted.listingsPerMinute);
  assert.match(scrape, new RegExp(`${METRIC_NAMES.commandsPerMinute}\\{source="[^"]+"\\} [1-9]`));
  const rows = await d.ledger!.recent({ limit: 10 });
  await d.stop();
  await running;
  // The latency per radar, as `radarlib status` prints it. The embedded server lists with LIST
  // `hh:mm` (minute precision, recorded since the readiness model): such rows are left out, only
  // second-precision server times (MLSD/MDTM) count.
  const report = await statusReport({ ledger: join(r.local, '.radarlib', 'ledger.sqlite') });
  assert.deepEqual(report.latency, []);
  assert.ok(rows.every((row) => row.mtimePrecisionMs === MTIME_PRECISION.minute));
  // The same rows with second-precision times (as MLSD lists them) make the per-radar line.
  const latency = latencyByRadar(rows.map((row) => ({ ...row, mtimePrecisionMs: MTIME_PRECISION.second })));
  assert.deepEqual(
    latency.map((l) => [l.radar, l.files]),
    [['RMA1', 2]],
  );
  assert.match(formatStatus({ ...report, latency }), /RMA1 {2}p50 [\d.]+ s {2}p95 [\d.]+ s/);
  assert.deepEqual(got, [`${first}/${volumeName(now - 120_000)}`, `${next}/${volumeName(now - 60_000)}`]);
  const rel = `${next.slice('/L2/'.length)}/${volumeName(now - 60_000)}`;
  assert.equal(sha256(join(r.local, rel)), sha256(join(r.root, next, volumeName(now - 60_000))));
});

test('stopping mid-pipeline loses nothing: every file is handed over once across a restart', async (t) => {
  const r = await rig(t);
  const n = 16;
  const names = Array.from({ length: n }, (_, i) => `s${String(i).padStart(2, '0')}.BUFR`);
  names.forEach((name, i) => r.put(`/data/${name}`, payload(10 + i, 3000)));
  const calls = new Map<string, number>();
  const count = (path: string): void => void calls.set(path, (calls.get(path) ?? 0) + 1);
  const slow = async (path: string): Promise<void> => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    count(path);
  };
  const config = r.config({ pollInterval: 3600, callbackConcurrency: 1, maxConcurrentDownloads: 2 });
  const first = new FTPDaemon(config, { onFileDownloaded: slow });
  const running = first.run();
  t.after(() => first.stop());
  // Stop while downloads and callbacks are in the middle: some processed, some not yet.
  await until(first, () => calls.size >= 3, 'the first callbacks');
  await first.stop();
  await running;
  assert.ok(calls.size < n, `stopped mid-pipeline (${calls.size} of ${n} handed over)`);

  const second = new FTPDaemon(config, { onFileDownloaded: slow });
  t.after(() => second.stop());
  await second.run({ maxIterations: 1 });
  assert.deepEqual([...calls.keys()].map((p) => p.slice(p.lastIndexOf('/') + 1)).sort(), names);
  for (const [path, times] of calls) assert.equal(times, 1, `${path} handed over once`);
  assert.deepEqual(listLocal(r.local), names);
  const ledger = await openLedger(join(r.local, '.radarlib', 'ledger.sqlite'));
  t.after(() => ledger.close());
  assert.equal((await ledger.counts()).processed, n);
});

test('with hot rounds far apart, a new file is listed again when its quiet period ends (a settle round)', async (t) => {
  const r = await rig(t);
  r.put('/data/new.BUFR', payload(7, 4000));
  const sizes: number[] = [];
  let listingsAtDownload = -1;
  const listings = (): number => r.server.commands.filter((c) => c.directive === 'LIST').length;
  // minAge an hour: only `settle` (0.3 s unchanged) can make the file ready; the next hot round
  // is a minute away.
  const d = new FTPDaemon(r.config({ pollInterval: 3600, hotInterval: 60, settle: 0.3, minAge: 3600 }), {
    onFileDownloaded: (_p, info) => {
      listingsAtDownload = listings();
      sizes.push(info.size);
    },
  });
  const running = d.run();
  t.after(() => d.stop());
  await until(d, () => sizes.length === 1, 'the new file', 30_000);
  assert.equal(listingsAtDownload, 2, 'the full round, then one listing when the file had settled');
  await d.stop();
  await running;
  assert.deepEqual(sizes, [4000]);
});
