/**
 * Which error a parked file keeps. An operator reads a parked row's error to learn why the file
 * was given up: a file the server refuses must say so (`550`), even when a timeout hit one of its
 * attempts (its last one included); a timeout only parks a file whose attempts never got further,
 * and only after twice `maxAttempts`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FTPDaemon } from '../../src/daemon/daemon.js';
import type { FailedEvent } from '../../src/daemon/events.js';
import type { FileRecord } from '../../src/ledger/ledger.js';
import { sha256File as sha256 } from '../helpers/hash.js';
import { scaled, sleep } from '../helpers/wait.js';
import { payload, rig } from './helpers/setup.js';

const MAX_ATTEMPTS = 2;

/** What the server does with the n-th RETR (from 1) of each file; other files are served. */
const PLAN: Record<string, (n: number) => 'refuse' | 'stall'> = {
  // Refused, but the RETR that would be the last attempt stalls (no byte, no reply after 150).
  '/data/late-stall.BUFR': (n) => (n === MAX_ATTEMPTS ? 'stall' : 'refuse'),
  '/data/early-stall.BUFR': (n) => (n === 1 ? 'stall' : 'refuse'),
  '/data/always-stall.BUFR': () => 'stall',
};

test('a refused file is parked with its 550 even when a stall hit its last attempt; stalls alone park after twice maxAttempts', async (t) => {
  const retrs = new Map<string, number>();
  const step = (path: string): 'refuse' | 'stall' | undefined => PLAN[path]?.(retrs.get(path) ?? 0);
  const r = await rig(t, { stall: (path) => step(path) === 'stall' });
  // Called first for every RETR: counts it, then decides.
  r.server.setRefuse((path) => {
    retrs.set(path, (retrs.get(path) ?? 0) + 1);
    return step(path) === 'refuse';
  });
  for (const path of Object.keys(PLAN)) r.put(path, payload(1, 4000));
  r.put('/data/ok.BUFR', payload(2, 50_000));

  const callbacks: string[] = [];
  const attempts = new Map<string, string[]>();
  const d = new FTPDaemon(
    r.config({
      maxAttempts: MAX_ATTEMPTS,
      backoff: { initialDelay: 0.01, maxDelay: 0.02, jitter: 0 },
      timeouts: { connect: 5, command: 5, dataStall: 0.5 },
    }),
    { onFileDownloaded: (_local, info) => void callbacks.push(info.remotePath) },
  );
  t.after(() => d.stop());
  const note = (e: FailedEvent): void => {
    attempts.set(e.remotePath, [...(attempts.get(e.remotePath) ?? []), `#${e.attempts} ${e.error.message}`]);
  };
  d.on('retry', note);
  d.on('failed', note);

  // Cycles until the four files are settled: one processed, three parked.
  const deadline = Date.now() + scaled(60_000);
  let rows: FileRecord[] = [];
  const settled = (): boolean =>
    rows.length === 4 && rows.every((x) => ['processed', 'failed'].includes(x.state));
  while (!settled() && Date.now() < deadline) {
    await d.runOnce();
    rows = await d.ledger!.recent({ limit: 10 });
    if (!settled()) await sleep(50);
  }
  const seen = JSON.stringify({
    rows,
    attempts: Object.fromEntries(attempts),
    retrs: Object.fromEntries(retrs),
  });
  assert.ok(settled(), `every file processed or parked before the deadline: ${seen}`);
  const row = (name: string): FileRecord => rows.find((x) => x.remotePath === `/data/${name}`)!;

  // The stall on the MAX_ATTEMPTS-th attempt did not park it: one more RETR, refused again.
  assert.equal(row('late-stall.BUFR').state, 'failed', seen);
  assert.match(row('late-stall.BUFR').lastError ?? '', /server replied 55\d/, seen);
  assert.ok((retrs.get('/data/late-stall.BUFR') ?? 0) > MAX_ATTEMPTS, seen);
  assert.ok(
    attempts.get('/data/late-stall.BUFR')?.some((a) => /no data for/.test(a)),
    `the stall was one of its attempts: ${seen}`,
  );

  assert.equal(row('early-stall.BUFR').state, 'failed', seen);
  assert.match(row('early-stall.BUFR').lastError ?? '', /server replied 55\d/, seen);

  // Nothing but stalls: parked, with the stall, after twice maxAttempts (bounded).
  assert.equal(row('always-stall.BUFR').state, 'failed', seen);
  assert.match(row('always-stall.BUFR').lastError ?? '', /RADARLIB_FTP_TIMEOUT.*no data for 500 ms/, seen);
  assert.equal(row('always-stall.BUFR').attempts, 2 * MAX_ATTEMPTS, seen);
  assert.equal(retrs.get('/data/always-stall.BUFR'), 2 * MAX_ATTEMPTS, seen);

  assert.equal(row('ok.BUFR').state, 'processed', seen);
  assert.deepEqual(callbacks, ['/data/ok.BUFR'], 'one callback, for the served file only');
  assert.equal(sha256(join(r.local, 'ok.BUFR')), sha256(join(r.root, 'data', 'ok.BUFR')));
});
