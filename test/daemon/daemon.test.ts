import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FTPDaemon } from '../../src/daemon/daemon.js';
import { ConfigError } from '../../src/errors.js';
import { openLedger } from '../../src/ledger/open.js';
import type { CycleEvent, FailedEvent, ProcessedEvent } from '../../src/daemon/daemon.js';
import { sha256File as sha256 } from '../helpers/hash.js';
import { listLocal, payload, rig } from './helpers/setup.js';

test('downloads every file once; a restart never downloads again', async (t) => {
  const r = await rig(t);
  for (let i = 0; i < 6; i++) r.put(`/data/f${i}.BUFR`, payload(i, 10_000 + i));
  r.put('/data/upload.BUFR.part', 'in flight');
  r.put('/data/.hidden.BUFR', 'dot file');
  r.put('/data/notes.txt', 'not a BUFR');
  const calls: string[] = [];

  const first = new FTPDaemon(r.config(), { onFileDownloaded: (p) => void calls.push(p) });
  const got = await first.runOnce();
  assert.equal(got.length, 6);
  assert.deepEqual(first.getProcessedFiles().length, 6);
  await first.stop();

  const second = new FTPDaemon(r.config(), { onFileDownloaded: (p) => void calls.push(p) });
  assert.deepEqual(await second.runOnce(), []);
  assert.deepEqual(await second.runOnce(), []);
  await second.stop();

  assert.equal(calls.length, 6, 'each callback once');
  assert.deepEqual(
    listLocal(r.local),
    [0, 1, 2, 3, 4, 5].map((i) => `f${i}.BUFR`),
  );
  for (let i = 0; i < 6; i++)
    assert.equal(sha256(join(r.local, `f${i}.BUFR`)), sha256(join(r.root, 'data', `f${i}.BUFR`)));

  const ledger = await openLedger(join(r.local, '.radarlib', 'ledger.sqlite'));
  t.after(() => ledger.close());
  const counts = await ledger.counts();
  assert.equal(counts.processed, 6);
  assert.equal(counts.seen + counts.ready + counts.downloading + counts.downloaded + counts.failed, 0);
});

test('a file appearing late in an older folder is still taken', async (t) => {
  const r = await rig(t);
  r.put('/data/2025/01/a.BUFR', 'a', new Date('2025-01-01T00:00:00Z'));
  r.put('/data/2025/02/b.BUFR', 'b', new Date('2025-02-01T00:00:00Z'));
  const d = new FTPDaemon(r.config({ recursive: true, localLayout: '{remoteDir}/' }));
  t.after(() => d.stop());
  assert.equal((await d.runOnce()).length, 2);
  // Older folder, older mtime than everything seen: a watermark would miss it.
  r.put('/data/2025/01/late.BUFR', 'late', new Date('2024-12-31T00:00:00Z'));
  const late = await d.runOnce();
  assert.deepEqual(
    late.map((x) => x.remotePath),
    ['/data/2025/01/late.BUFR'],
  );
  assert.deepEqual(listLocal(r.local), ['2025/01/a.BUFR', '2025/01/late.BUFR', '2025/02/b.BUFR']);
});

test('a recursive source polls a quiet tree without readying spare connections (server log)', async (t) => {
  const r = await rig(t);
  for (const month of ['01', '02', '03', '04'])
    r.put(`/data/2025/${month}/x${month}.BUFR`, month, new Date(`2025-${month}-01T00:00:00Z`));
  const d = new FTPDaemon(r.config({ recursive: true, maxConnections: 4 }));
  t.after(() => d.stop());
  assert.equal((await d.runOnce()).length, 4);
  const from = r.server.commands.length;
  assert.deepEqual(await d.runOnce(), []);
  const idle = r.server.commands.slice(from).map((c) => c.directive);
  const count = (...names: string[]): number => idle.filter((c) => names.includes(c)).length;
  // A library walk readies a data connection on every idle connection (an EPSV its listing may
  // never use) and logs the pool in to its cap; a poll that finds nothing must not.
  assert.equal(count('EPSV', 'PASV'), count('MLSD', 'LIST', 'NLST'), `idle cycle: ${idle.join(' ')}`);
  assert.ok(count('USER') <= 1, `logins in an idle cycle: ${count('USER')} (${idle.join(' ')})`);
});

test('a file replaced by a new version (other size/mtime) is taken again as a new version', async (t) => {
  const r = await rig(t);
  r.put('/data/v.BUFR', payload(1, 1000), new Date('2025-01-01T00:00:00Z'));
  const seen: number[] = [];
  const d = new FTPDaemon(r.config(), { onFileDownloaded: (_p, info) => void seen.push(info.size) });
  t.after(() => d.stop());
  await d.runOnce();
  assert.deepEqual(await d.runOnce(), [], 'unchanged: not taken again');
  r.put('/data/v.BUFR', payload(2, 2000), new Date('2025-01-02T00:00:00Z'));
  const again = await d.runOnce();
  assert.equal(again.length, 1);
  assert.deepEqual(seen, [1000, 2000]);
  assert.equal(sha256(join(r.local, 'v.BUFR')), sha256(join(r.root, 'data', 'v.BUFR')));
  const versions = await d.ledger!.recent({ limit: 10 });
  assert.equal(versions.filter((v) => v.remotePath === '/data/v.BUFR').length, 2, 'two versions recorded');
});

test('a growing file is not taken until its size is stable across two listings', async (t) => {
  const r = await rig(t);
  r.put('/data/grow.BUFR', payload(3, 100));
  // A large minAge: only the two-listing rule can make the file ready.
  const d = new FTPDaemon(r.config({ minAge: 3600 }));
  t.after(() => d.stop());
  assert.deepEqual(await d.runOnce(), [], 'first sight: seen');
  appendFileSync(join(r.root, 'data', 'grow.BUFR'), payload(4, 5000));
  assert.deepEqual(await d.runOnce(), [], 'grew: still seen');
  appendFileSync(join(r.root, 'data', 'grow.BUFR'), payload(5, 5000));
  assert.deepEqual(await d.runOnce(), [], 'grew again: still seen');
  const got = await d.runOnce();
  assert.equal(got.length, 1, 'stable across two listings: taken');
  assert.equal(got[0]!.size, 10_100);
  assert.equal(sha256(join(r.local, 'grow.BUFR')), sha256(join(r.root, 'data', 'grow.BUFR')));
});

test('retries with backoff, then failed with the last error; retry-failed re-queues', async (t) => {
  const r = await rig(t);
  r.put('/data/ok.BUFR', 'fine');
  r.put('/data/bad.BUFR', 'refused');
  r.server.setRefuse((p) => p.endsWith('bad.BUFR'));
  const retries: FailedEvent[] = [];
  const failures: FailedEvent[] = [];
  const d = new FTPDaemon(
    r.config({ maxAttempts: 3, backoff: { initialDelay: 0.001, maxDelay: 0.001, jitter: 0.5 } }),
  );
  t.after(() => d.stop());
  d.on('retry', (e) => retries.push(e));
  d.on('failed', (e) => failures.push(e));
  for (let i = 0; i < 20 && failures.length === 0; i++) {
    await d.runOnce();
    await new Promise((res) => setTimeout(res, 5));
  }
  assert.deepEqual(
    retries.map((e) => e.attempts),
    [1, 2],
  );
  assert.equal(failures.length, 1);
  assert.equal(failures[0]!.attempts, 3);
  assert.equal(failures[0]!.retryAt, null);
  const [row] = await d.ledger!.recent({ states: ['failed'], limit: 5 });
  assert.equal(row?.remotePath, '/data/bad.BUFR');
  assert.match(row?.lastError ?? '', /server replied 55\d/);
  assert.equal(row?.attempts, 3);
  assert.deepEqual(await d.runOnce(), [], 'parked: not retried by itself');

  r.server.setRefuse(undefined);
  assert.equal(await d.ledger!.retryFailed(), 1);
  const got = await d.runOnce();
  assert.deepEqual(
    got.map((x) => x.remotePath),
    ['/data/bad.BUFR'],
  );
});

test('a throwing callback is recorded per file and never stops the daemon', async (t) => {
  const r = await rig(t);
  for (let i = 0; i < 4; i++) r.put(`/data/c${i}.BUFR`, payload(i, 500));
  const processed: ProcessedEvent[] = [];
  const cycles: CycleEvent[] = [];
  const d = new FTPDaemon(r.config({ callbackConcurrency: 2 }), {
    onFileDownloaded: async (localPath) => {
      await new Promise((res) => setTimeout(res, 1));
      if (localPath.endsWith('c1.BUFR')) throw new Error('cannot decode');
      if (localPath.endsWith('c2.BUFR')) throw 'a string, not an Error';
    },
  });
  d.on('processed', (e) => processed.push(e));
  d.on('cycle', (e) => cycles.push(e));
  await d.run({ maxIterations: 3 });
  assert.equal(cycles.length, 3, 'all cycles ran');
  assert.equal(processed.length, 4);
  const errors = Object.fromEntries(processed.map((p) => [p.record.remotePath, p.error?.message ?? null]));
  assert.match(errors['/data/c1.BUFR'] ?? '', /cannot decode/);
  assert.match(errors['/data/c2.BUFR'] ?? '', /a string/);
  assert.equal(errors['/data/c0.BUFR'], null);

  const ledger = await openLedger(join(r.local, '.radarlib', 'ledger.sqlite'));
  t.after(() => ledger.close());
  const rows = await ledger.recent({ states: ['processed'], limit: 10 });
  assert.equal(rows.length, 4);
  const c1 = rows.find((x) => x.remotePath === '/data/c1.BUFR');
  assert.match(c1?.callbackError ?? '', /cannot decode/);
});

test('files downloaded but not processed before a stop are handed over again on restart', async (t) => {
  const r = await rig(t);
  r.put('/data/slow.BUFR', 'slow');
  const first = new FTPDaemon(r.config({ stopTimeout: 0.2 }), {
    // Never finishes: the stop deadline leaves the row `downloaded`.
    onFileDownloaded: () => new Promise<void>(() => undefined),
  });
  const running = first.runOnce();
  await new Promise<void>((resolve) => first.once('downloaded', () => resolve()));
  await first.stop();
  void running.catch(() => undefined);

  const handed: string[] = [];
  const second = new FTPDaemon(r.config(), { onFileDownloaded: (p) => void handed.push(p) });
  t.after(() => second.stop());
  assert.deepEqual(await second.runOnce(), [], 'not downloaded again');
  assert.deepEqual(handed, [join(r.local, 'slow.BUFR')]);
  const [row] = await second.ledger!.recent({ limit: 1 });
  assert.equal(row?.state, 'processed');
  assert.equal(row?.attempts, 1);
});

test('an exec hook runs per file; a failing hook is recorded', async (t) => {
  const r = await rig(t);
  r.put('/data/e1.BUFR', 'one');
  r.put('/data/e2.BUFR', 'two');
  const out = join(r.local, 'hook.log');
  const d = new FTPDaemon(
    r.config({
      exec: {
        command: [
          '/bin/sh',
          '-c',
          `echo "$1 $RADAR_REMOTE_PATH" >> "${out}"; case "$1" in *e2*) echo boom >&2; exit 3;; esac`,
          'hook',
          '{path}',
        ],
        timeout: 10,
      },
    }),
  );
  t.after(() => d.stop());
  const errors = new Map<string, string | null>();
  d.on('processed', (e) => errors.set(e.record.remotePath, e.error?.message ?? null));
  await d.runOnce();
  const lines = readFileSync(out, 'utf8').trim().split('\n').sort();
  assert.deepEqual(lines, [
    `${join(r.local, 'e1.BUFR')} /data/e1.BUFR`,
    `${join(r.local, 'e2.BUFR')} /data/e2.BUFR`,
  ]);
  assert.equal(errors.get('/data/e1.BUFR'), null);
  assert.match(errors.get('/data/e2.BUFR') ?? '', /exit code 3: boom/);
});

test('many sources in one process, each with its own connection cap', async (t) => {
  const a = await rig(t);
  const b = await rig(t);
  for (let i = 0; i < 8; i++) a.put(`/data/a${i}.BUFR`, payload(i, 200_000));
  for (let i = 0; i < 3; i++) b.put(`/radar/b${i}.BUFR`, payload(i + 10, 1000));
  // The servers run in this process: on a busy machine a transfer can wait seconds for the event
  // loop, which must not be taken for a dead server (this test is about the connection caps).
  const timeouts = { connect: 20, command: 20, dataStall: 20 };
  const d = new FTPDaemon({
    localDir: a.local,
    minAge: 0,
    sources: [
      { ...a.config(), name: 'a', maxConnections: 2, maxConcurrentDownloads: 4, timeouts },
      { ...b.config(), name: 'b', remotePath: '/radar', localDir: b.local, timeouts },
    ],
  });
  t.after(() => d.stop());
  const got = await d.runOnce();
  assert.equal(got.length, 11);
  assert.equal(listLocal(a.local).length, 8);
  assert.equal(listLocal(b.local).length, 3);
  assert.ok(a.server.peakConnections <= 2, `source a used ${a.server.peakConnections} connections`);
  assert.equal((await d.ledger!.counts('a')).processed, 8);
  assert.equal((await d.ledger!.counts('b')).processed, 3);
});

test('the constructor validates the config (ConfigError names the key)', () => {
  assert.throws(
    () => new FTPDaemon({ host: 'h', localDir: '/tmp/x', maxConcurrentDownloads: 0 }),
    (err: unknown) => err instanceof ConfigError && err.key === 'maxConcurrentDownloads',
  );
});

test('a server that cannot be listed does not spend the ready files’ attempts', async (t) => {
  const r = await rig(t);
  r.put('/data/x.BUFR', 'x');
  r.server.setRefuse(() => true);
  const d = new FTPDaemon(r.config({ maxAttempts: 2, timeouts: { connect: 2, command: 2, dataStall: 2 } }));
  t.after(() => d.stop());
  const cycles: CycleEvent[] = [];
  d.on('cycle', (e) => cycles.push(e));
  await d.runOnce(); // listed, one refused attempt
  let [row] = await d.ledger!.recent({ limit: 1 });
  assert.equal(row?.attempts, 1);

  // The server goes away: listing fails, the ready file keeps its remaining attempt.
  const port = r.server.port;
  await r.server.stop();
  await new Promise((res) => setTimeout(res, 20));
  await d.runOnce();
  await d.runOnce();
  assert.ok(cycles[1]?.error instanceof Error, 'the cycle reports the listing error');
  assert.match(String(cycles[1]?.error?.message), new RegExp(String(port)));
  [row] = await d.ledger!.recent({ limit: 1 });
  assert.equal(row?.state, 'ready');
  assert.equal(row?.attempts, 1);
});

test('cycles of one source never overlap: concurrent runOnce calls queue up', async (t) => {
  const r = await rig(t);
  for (let i = 0; i < 5; i++) r.put(`/data/q${i}.BUFR`, payload(i, 1000));
  const d = new FTPDaemon(r.config());
  t.after(() => d.stop());
  const order: string[] = [];
  d.on('downloaded', (e) => order.push(`dl:${e.record.remotePath}`));
  d.on('cycle', (e) => order.push(`cycle:${e.cycle}`));
  const [a, b] = await Promise.all([d.runOnce(), d.runOnce()]);
  assert.equal(a.length, 5);
  assert.deepEqual(b, []);
  assert.equal(order.filter((x) => x.startsWith('dl:')).length, 5, 'each file once');
  assert.deepEqual(
    order.filter((x) => x.startsWith('cycle:')),
    ['cycle:1', 'cycle:2'],
  );
  assert.equal(order.indexOf('cycle:1'), 5, 'cycle 2 started after cycle 1 ended');
});

test('a hung callback never stops polling; run() still stops at the deadline', async (t) => {
  const r = await rig(t);
  r.put('/data/a.BUFR', 'a');
  const downloaded: string[] = [];
  const d = new FTPDaemon(r.config({ stopTimeout: 0.2 }), {
    onFileDownloaded: (p) => (p.endsWith('a.BUFR') ? new Promise<void>(() => undefined) : undefined),
  });
  d.on('downloaded', (e) => {
    downloaded.push(e.record.remotePath);
    if (downloaded.length === 1) r.put('/data/b.BUFR', 'b');
  });
  let cycles = 0;
  d.on('cycle', () => void cycles++);
  await d.run({ maxIterations: 4 });
  assert.equal(cycles, 4);
  assert.deepEqual(downloaded, ['/data/a.BUFR', '/data/b.BUFR']);
  await assert.rejects(d.run(), /the daemon is stopped/);
  const ledger = await openLedger(join(r.local, '.radarlib', 'ledger.sqlite'));
  t.after(() => ledger.close());
  const rows = await ledger.recent({ limit: 5 });
  assert.deepEqual(rows.map((x) => [x.remotePath, x.state]).sort(), [
    ['/data/a.BUFR', 'downloaded'],
    ['/data/b.BUFR', 'processed'],
  ]);
});
