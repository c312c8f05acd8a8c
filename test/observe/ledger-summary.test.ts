/**
 * src/observe/ledger-summary.ts on a real SQLite ledger whose rows went through listing, claim,
 * commit and callback: the counts, the newest files, parked failures, callback errors and the
 * latency per radar that `radarlib status` prints and the status page shows.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { statusReport } from '../../src/cli/commands/status.js';
import { MTIME_PRECISION, type Ledger } from '../../src/ledger/ledger.js';
import { SqliteLedger } from '../../src/ledger/sqlite.js';
import { summarizeLedger } from '../../src/observe/ledger-summary.js';

const T0 = Date.parse('2025-10-20T15:00:00Z');
let dir: string;
let file: string;
let ledger: Ledger;
let clock = T0;

/** One file listed (MLSD precision, landed at T0) and taken as far as `outcome` says. */
async function recordFile(
  source: string,
  name: string,
  outcome: { processedAfter: number; callbackError?: string } | 'downloaded' | 'failed' | 'listed',
): Promise<void> {
  const remotePath = `/L2/${name}`;
  clock += 1000;
  await ledger.observe(
    source,
    [{ remotePath, size: 100, mtime: T0, mtimePrecisionMs: MTIME_PRECISION.second }],
    { now: clock, minAgeMs: 0 },
  );
  if (outcome === 'listed') return;
  const [claim] = await ledger.claimReady(source, 1, { now: clock, leaseMs: 60_000, owner: 'test' });
  assert.ok(claim !== undefined && claim.record.remotePath === remotePath);
  if (outcome === 'failed') {
    await ledger.fail(claim, 'RADARLIB_FTP_REPLY: FTP RETR on h:21: server replied 550', {
      now: clock,
      retryAt: null,
    });
    return;
  }
  const row = await ledger.complete(claim, join(dir, name), { now: clock });
  if (outcome === 'downloaded') return;
  clock = T0 + outcome.processedAfter * 1000;
  await ledger.markProcessed(row.id, outcome.callbackError ?? null, { now: clock });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'radarlib-summary-'));
  file = join(dir, 'ledger.sqlite');
  ledger = SqliteLedger.open(file);
  // Source a, radar RMA1: three volumes processed 5, 9 and 7 s after they landed (one callback
  // threw), one still waiting for its callback, one parked, one only listed. Source b: RMA2.
  await recordFile('a', 'RMA1_0315_01_DBZH_20251020T150000Z.BUFR', { processedAfter: 5 });
  await recordFile('a', 'RMA1_0315_01_VRAD_20251020T150000Z.BUFR', {
    processedAfter: 9,
    callbackError: 'RADARLIB_CALLBACK: Callback for x failed: boom',
  });
  await recordFile('a', 'RMA1_0315_01_ZDR_20251020T150000Z.BUFR', { processedAfter: 7 });
  await recordFile('b', 'RMA2_0315_01_DBZH_20251020T150000Z.BUFR', { processedAfter: 12 });
  await recordFile('a', 'RMA1_0315_01_KDP_20251020T150000Z.BUFR', 'downloaded');
  await recordFile('a', 'RMA1_0315_01_RHOHV_20251020T150000Z.BUFR', 'failed');
  await recordFile('b', 'RMA2_0315_01_VRAD_20251020T150000Z.BUFR', 'failed');
  await recordFile('a', 'RMA1_0315_01_PHIDP_20251020T150000Z.BUFR', 'listed');
});

after(async () => {
  await ledger.close();
  rmSync(dir, { recursive: true, force: true });
});

const names = (rows: readonly { remotePath: string }[]): string[] =>
  rows.map((r) => r.remotePath.replace('/L2/', '').replace('_20251020T150000Z.BUFR', ''));

test('all sources: counts, newest files first, parked files, callback errors, latency per radar', async () => {
  const s = await summarizeLedger(ledger);
  assert.equal(s.counts.processed, 4);
  assert.equal(s.counts.downloaded, 1);
  assert.equal(s.counts.failed, 2);
  assert.equal(s.counts.ready, 1);
  assert.equal(s.total, 8);
  assert.deepEqual(names(s.recent), [
    'RMA1_0315_01_KDP',
    'RMA2_0315_01_DBZH',
    'RMA1_0315_01_VRAD',
    'RMA1_0315_01_ZDR',
    'RMA1_0315_01_DBZH',
  ]);
  assert.deepEqual(names(s.failed), ['RMA2_0315_01_VRAD', 'RMA1_0315_01_RHOHV']);
  assert.match(s.failed[0]?.lastError ?? '', /replied 550/);
  assert.deepEqual(names(s.callbackErrors), ['RMA1_0315_01_VRAD']);
  assert.match(s.callbackErrors[0]?.callbackError ?? '', /boom/);
  assert.deepEqual(s.latency, [
    { source: 'a', radar: 'RMA1', files: 3, p50Seconds: 7, p95Seconds: 9, maxSeconds: 9 },
    { source: 'b', radar: 'RMA2', files: 1, p50Seconds: 12, p95Seconds: 12, maxSeconds: 12 },
  ]);
});

test('one source, and a limit on every list', async () => {
  const b = await summarizeLedger(ledger, { source: 'b' });
  assert.equal(b.total, 2);
  assert.deepEqual(names(b.recent), ['RMA2_0315_01_DBZH']);
  assert.deepEqual(names(b.failed), ['RMA2_0315_01_VRAD']);
  assert.deepEqual(b.callbackErrors, []);
  assert.deepEqual(
    b.latency.map((l) => l.radar),
    ['RMA2'],
  );
  const one = await summarizeLedger(ledger, { limit: 1 });
  assert.deepEqual(names(one.recent), ['RMA1_0315_01_KDP']);
  assert.deepEqual(names(one.failed), ['RMA2_0315_01_VRAD']);
  assert.equal(one.latency[0]?.files, 3, 'latency is over the last 500 processed files, whatever the limit');
});

test('`radarlib status` reports exactly this summary', async () => {
  assert.deepEqual(
    await statusReport({ ledger: file, limit: 3 }),
    await summarizeLedger(ledger, { limit: 3 }),
  );
});
