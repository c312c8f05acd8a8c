/**
 * The download pool's slots and claim order (src/daemon/download-pool.ts, claim-order.ts), over
 * the embedded FTP server with a real SQLite ledger: a slot frees once its file has arrived, so
 * the next file's RETR goes out while the previous file is still being recorded (and fdatasynced),
 * without a connection more and without recording anything before it is complete on disk; and a backlog is
 * claimed largest and smallest alternately, as `downloadFiles` starts a batch. Many files waiting
 * for their fdatasync at once raise no Node listener warning. And the first walk of a radar tree
 * logs every connection in at once (lister.ts), later cycles none.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { claimOrder } from '../../src/daemon/claim-order.js';
import { FTPDaemon } from '../../src/daemon/daemon.js';
import type { Completion, Ledger } from '../../src/ledger/ledger.js';
import { SqliteLedger } from '../../src/ledger/sqlite.js';
import { fileSyncs } from '../../src/util/sync-slots.js';
import { sha256File } from '../helpers/hash.js';
import { scaled, sleep, waitUntil } from '../helpers/wait.js';
import { treeFiles, writeTree } from './helpers/radar-tree.js';
import { payload, rig, type Rig } from './helpers/setup.js';

function retrs(r: Rig): string[] {
  return r.server.commands.filter((c) => c.directive === 'RETR').map((c) => basename(c.arg ?? ''));
}

/** A ledger whose commits of downloads are slow, noting what the server had been sent by then. */
function slowCommits(
  inner: Ledger,
  r: Rig,
  delayMs: number,
): { ledger: Ledger; retrsAtCommitEnd: number[]; notOnDisk: string[] } {
  const seen = { retrsAtCommitEnd: [] as number[], notOnDisk: [] as string[] };
  const ledger = new Proxy(inner, {
    get(target, prop) {
      if (prop === 'completeMany') {
        return async (completions: readonly Completion[], options: { now: number }) => {
          for (const { localPath } of completions) {
            const partLeft = readdirSync(dirname(localPath)).some(
              (n) => n.endsWith('.part') && n.includes(basename(localPath)),
            );
            if (!existsSync(localPath) || partLeft) seen.notOnDisk.push(localPath);
          }
          await sleep(delayMs);
          seen.retrsAtCommitEnd.push(retrs(r).length);
          return target.completeMany(completions, options);
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { ledger, ...seen };
}

test('a slot frees once its file has arrived: the next RETR goes out while the previous file is recorded', async (t) => {
  const r = await rig(t);
  const FILES = 4;
  for (let i = 0; i < FILES; i++) r.put(`/data/f${i}.BUFR`, payload(i, 50_000 + i * 1000));
  const dir = mkdtempSync(join(tmpdir(), 'radarlib-slots-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = SqliteLedger.open(join(dir, 'ledger.sqlite'));
  t.after(() => store.close());
  const slow = slowCommits(store, r, 300);
  const calls: { name: string; state: string | undefined }[] = [];
  const d = new FTPDaemon(r.config({ maxConcurrentDownloads: 1 }), {
    ledger: slow.ledger,
    onFileDownloaded: async (localPath, info) => {
      assert.equal(sha256File(localPath), sha256File(join(r.root, 'data', basename(localPath))));
      calls.push({ name: basename(localPath), state: (await store.get(info.id))?.state });
    },
  });
  t.after(() => d.stop());
  const got = await d.runOnce();
  assert.equal(got.length, FILES);
  // One transfer at a time and one connection, as configured: the next file waited for the
  // connection, not for the ledger.
  assert.equal(r.server.peakConnections, 1);
  assert.equal(retrs(r).length, FILES, 'each file fetched once');
  assert.ok(
    slow.retrsAtCommitEnd.slice(0, -1).some((n, i) => n > i + 1),
    `a RETR went out during an earlier file's commit (RETRs at each commit's end: ${slow.retrsAtCommitEnd.join(',')})`,
  );
  assert.deepEqual(slow.notOnDisk, [], 'nothing recorded before it is complete under its final name');
  assert.deepEqual(
    calls.map((c) => c.name).sort(),
    Array.from({ length: FILES }, (_, i) => `f${i}.BUFR`),
    'each callback once',
  );
  assert.ok(
    calls.every((c) => c.state === 'downloaded'),
    'a callback starts only after its row is recorded',
  );
  for (let i = 0; i < FILES; i++) assert.equal(statSync(join(r.local, `f${i}.BUFR`)).size, 50_000 + i * 1000);
  assert.equal((await store.counts()).processed, FILES);
});

/**
 * Starts a one-connection `runOnce` over `files` new files with every fdatasync held, and returns
 * once the server has been sent all their RETRs (each file then waits to be made durable). The
 * caller lets the syncs go with `fileSyncs.start()` and awaits `run`.
 */
async function runWithSyncsHeld(
  t: TestContext,
  r: Rig,
  files: number,
  size: (i: number) => number,
): Promise<{ run: ReturnType<FTPDaemon['runOnce']> }> {
  for (let i = 0; i < files; i++) r.put(`/data/f${i}.BUFR`, payload(i, size(i)));
  fileSyncs.pause();
  t.after(() => fileSyncs.start());
  const d = new FTPDaemon(r.config({ maxConcurrentDownloads: 1 }));
  t.after(() => d.stop());
  const run = d.runOnce();
  await waitUntil(
    `the ${files} RETRs while no file is fdatasynced`,
    Date.now() + scaled(10_000),
    () => (retrs(r).length === files ? true : undefined),
    { intervalMs: 10, seen: () => `RETRs ${retrs(r).join(',')}` },
  );
  return { run };
}

test('a slot frees before the fdatasync: with the syncs held, every RETR goes out on the one connection', async (t) => {
  const r = await rig(t);
  const FILES = 3;
  const { run } = await runWithSyncsHeld(t, r, FILES, (i) => 40_000 + i * 1000);
  assert.equal(r.server.peakConnections, 1);
  assert.deepEqual(
    readdirSync(r.local, { recursive: true }).filter((n) => String(n).endsWith('.BUFR')),
    [],
    'no file under its final name before its fdatasync',
  );
  fileSyncs.start();
  assert.equal((await run).length, FILES);
  for (let i = 0; i < FILES; i++) assert.equal(statSync(join(r.local, `f${i}.BUFR`)).size, 40_000 + i * 1000);
});

test('files waiting to be made durable, more than ten at once, raise no listener-leak warning', async (t) => {
  // Every fetch listens on the daemon's stop signals until its file is recorded: with the
  // fdatasyncs behind, twelve fetches listen at once, and Node warned of a "possible memory leak"
  // at the eleventh (an operator reads that in the service's log during every catch-up).
  const r = await rig(t);
  const FILES = 12;
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const { run } = await runWithSyncsHeld(t, r, FILES, (i) => 20_000 + i * 1000);
  fileSyncs.start();
  assert.equal((await run).length, FILES);
  // the warning is emitted on the next tick after the listener that crossed the line
  await sleep(50);
  assert.deepEqual(
    warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')),
    [],
  );
  for (let i = 0; i < FILES; i++) assert.equal(statSync(join(r.local, `f${i}.BUFR`)).size, 20_000 + i * 1000);
});

test('a backlog is claimed largest and smallest alternately (the server sees the RETRs in that order)', async (t) => {
  const r = await rig(t);
  const sizes = [30_000, 90_000, 10_000, 70_000, 50_000, 20_000];
  sizes.forEach((size, i) => r.put(`/data/f${i}.BUFR`, payload(i, size)));
  const d = new FTPDaemon(r.config({ maxConcurrentDownloads: 1 }));
  t.after(() => d.stop());
  assert.equal((await d.runOnce()).length, sizes.length);
  // 90, 10, 70, 20, 50, 30 KB
  assert.deepEqual(retrs(r), ['f1.BUFR', 'f2.BUFR', 'f3.BUFR', 'f5.BUFR', 'f4.BUFR', 'f0.BUFR']);
  for (const [i, size] of sizes.entries()) assert.equal(statSync(join(r.local, `f${i}.BUFR`)).size, size);
});

test('claim order: alternately within runs of 64 files, the runs in listing order', () => {
  const files = Array.from({ length: 130 }, (_, i) => ({
    remotePath: `/d/${String(i).padStart(3, '0')}`,
    size: i,
    mtime: null,
  }));
  const order = claimOrder(files).map((f) => f.size);
  assert.deepEqual(order.slice(0, 4), [63, 0, 62, 1]);
  assert.deepEqual(order.slice(64, 68), [127, 64, 126, 65]);
  assert.deepEqual(order.slice(128), [129, 128]);
  assert.deepEqual(
    [...order].sort((a, b) => a - b),
    files.map((f) => f.size),
    'every file once',
  );
});

test('the first walk of a radar tree logs every connection in at once; an idle cycle logs in none', async (t) => {
  const r = await rig(t);
  // One volume: every level of the walk is a single folder, listed one after another, so before
  // this the walk and the download used one connection.
  const end = new Date(Math.floor(Date.now() / 600_000) * 600_000);
  const files = treeFiles({
    root: '/L2',
    radars: ['RMA1'],
    end,
    historyMs: 600_000,
    stepMinutes: 10,
    fields: ['DBZH'],
  });
  writeTree(r.root, files);
  const logins = (): number => r.server.commands.filter((c) => c.directive === 'USER').length;
  const d = new FTPDaemon(
    r.config({ remotePath: '/L2', layout: 'radar-tree', lookback: 3600, maxConcurrentDownloads: 3 }),
  );
  t.after(() => d.stop());
  assert.equal((await d.runOnce()).length, files.length);
  assert.equal(logins(), 3, 'the first walk logged the three connections in');
  assert.ok(r.server.peakConnections <= 3);
  assert.deepEqual(await d.runOnce(), []);
  assert.equal(logins(), 3, 'the idle cycle reused them');
});
