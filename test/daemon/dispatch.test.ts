/**
 * src/daemon/dispatch.ts with a real SQLite ledger and real files: callbacks run after the commit,
 * at most `concurrency` at once, each row once while in flight, and a throw is recorded for its
 * own file only.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { Dispatcher, type DispatcherOptions, type ProcessedInfo } from '../../src/daemon/dispatch.js';
import { CallbackError } from '../../src/errors.js';
import type { FileRecord, Ledger } from '../../src/ledger/ledger.js';
import { SqliteLedger } from '../../src/ledger/sqlite.js';
import { silentLogger } from '../../src/observe/log.js';
import { sleep } from '../helpers/wait.js';

const SOURCE = 'dispatch-test';
let dir: string;
let ledger: Ledger;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'radarlib-dispatch-'));
  ledger = SqliteLedger.open(join(dir, 'ledger.sqlite'));
});
afterEach(async () => {
  await ledger.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `n` rows taken through listing, claim and commit, each with its file on disk. */
async function downloadedRows(n: number): Promise<FileRecord[]> {
  const now = Date.now();
  const names = Array.from(
    { length: n },
    (_, i) => `RMA1_0315_01_DBZH_20251020T15${String(i).padStart(2, '0')}00Z.BUFR`,
  );
  await ledger.observe(
    SOURCE,
    names.map((name, i) => ({ remotePath: `/L2/${name}`, size: 10 + i, mtime: now - 3_600_000 })),
    { now, minAgeMs: 0 },
  );
  const claims = await ledger.claimReady(SOURCE, n, { now, leaseMs: 60_000, owner: 'test' });
  assert.equal(claims.length, n);
  const rows: FileRecord[] = [];
  for (const claim of claims) {
    const localPath = join(dir, claim.record.remotePath.slice('/L2/'.length));
    writeFileSync(localPath, 'x'.repeat(claim.record.size));
    rows.push(await ledger.complete(claim, localPath, { now }));
  }
  return rows;
}

function dispatcher(options: Partial<DispatcherOptions>, processed: ProcessedInfo[] = []): Dispatcher {
  return new Dispatcher({
    ledger,
    callback: undefined,
    exec: null,
    concurrency: 2,
    logger: silentLogger(),
    signal: new AbortController().signal,
    onProcessed: (info) => processed.push(info),
    now: Date.now,
    ...options,
  });
}

test('the callback runs after the commit, sees the complete file, and the row ends processed', async () => {
  const [row] = await downloadedRows(1);
  assert.ok(row !== undefined);
  const seen: { state: string | undefined; bytes: number; radar: string | undefined; size: number }[] = [];
  const processed: ProcessedInfo[] = [];
  const d = dispatcher(
    {
      callback: async (localPath, info) => {
        seen.push({
          state: (await ledger.get(info.id))?.state,
          bytes: readFileSync(localPath).length,
          radar: info.radar?.radar,
          size: info.size,
        });
      },
    },
    processed,
  );
  await d.dispatch(row);
  assert.deepEqual(seen, [{ state: 'downloaded', bytes: row.size, radar: 'RMA1', size: row.size }]);
  const after = await ledger.get(row.id);
  assert.equal(after?.state, 'processed');
  assert.equal(after?.callbackError, null);
  assert.equal(processed.length, 1);
  assert.equal(processed[0]?.error, null);
});

test('no more than `concurrency` callbacks run at once, and every file is handed over', async () => {
  const rows = await downloadedRows(7);
  let active = 0;
  let peak = 0;
  const handed: string[] = [];
  const d = dispatcher({
    concurrency: 3,
    callback: async (localPath) => {
      active++;
      peak = Math.max(peak, active);
      await sleep(30);
      handed.push(localPath);
      active--;
    },
  });
  await Promise.all(rows.map((r) => d.dispatch(r)));
  assert.equal(peak, 3);
  assert.deepEqual(handed.sort(), rows.map((r) => r.localPath).sort());
  assert.equal((await ledger.counts(SOURCE)).processed, 7);
});

test('a throw or a rejection is recorded for that file only; dispatch never rejects', async () => {
  const rows = await downloadedRows(3);
  const [bad, good, rejecting] = rows;
  assert.ok(bad !== undefined && good !== undefined && rejecting !== undefined);
  const processed: ProcessedInfo[] = [];
  const d = dispatcher(
    {
      callback: (localPath) => {
        if (localPath === bad.localPath) throw new Error('cannot decode');
        if (localPath === rejecting.localPath) return Promise.reject(new Error('database down'));
        return undefined;
      },
    },
    processed,
  );
  await Promise.all(rows.map((r) => d.dispatch(r)));
  const byId = new Map(processed.map((p) => [p.record.id, p.error]));
  assert.ok(byId.get(bad.id) instanceof CallbackError);
  assert.match(byId.get(bad.id)?.message ?? '', /cannot decode/);
  assert.match(byId.get(rejecting.id)?.message ?? '', /database down/);
  assert.equal(byId.get(good.id), null);
  assert.match((await ledger.get(bad.id))?.callbackError ?? '', /cannot decode/);
  assert.match((await ledger.get(rejecting.id))?.callbackError ?? '', /database down/);
  assert.equal((await ledger.get(good.id))?.callbackError, null);
  for (const r of rows) assert.equal((await ledger.get(r.id))?.state, 'processed');
});

test('a row dispatched again while in flight is handed over once', async () => {
  const [row] = await downloadedRows(1);
  assert.ok(row !== undefined);
  let calls = 0;
  const d = dispatcher({
    callback: async () => {
      calls++;
      await sleep(30);
    },
  });
  const first = d.dispatch(row);
  assert.equal(d.isInFlight(row.id), true);
  await Promise.all([first, d.dispatch(row)]);
  assert.equal(calls, 1);
  assert.equal(d.isInFlight(row.id), false);
});

// The daemon's callbacks-owed sweep reads the `downloaded` rows, then dispatches them; a row the
// download path committed meanwhile is dispatched by that path too. When the first dispatch has
// finished before the second arrives, the second holds a stale `downloaded` copy (issue 11: a
// proftpd readiness case saw one row, one download, two callbacks 1 ms apart).
test('a row dispatched again from a stale copy after its callback ran is handed over once', async () => {
  const [row] = await downloadedRows(1);
  assert.ok(row !== undefined);
  const stale = { ...row };
  const processed: ProcessedInfo[] = [];
  let calls = 0;
  const d = dispatcher({ callback: () => void calls++ }, processed);
  await d.dispatch(row);
  assert.equal((await ledger.get(row.id))?.state, 'processed');
  await d.dispatch(stale);
  assert.equal(calls, 1, 'one callback for one downloaded row');
  assert.equal(processed.length, 1);
  assert.equal((await ledger.get(row.id))?.state, 'processed');
});

test('a callback that fails because of the stop deadline leaves the row downloaded for the next start', async () => {
  const [row] = await downloadedRows(1);
  assert.ok(row !== undefined);
  const stop = new AbortController();
  const d = dispatcher({
    signal: stop.signal,
    callback: async (_localPath, info) => {
      stop.abort(new Error('stop deadline'));
      info.signal.throwIfAborted();
    },
  });
  await d.dispatch(row);
  assert.equal((await ledger.get(row.id))?.state, 'downloaded');
  assert.equal(existsSync(row.localPath ?? ''), true);
});

test('without callback or hook there is nothing to hand over', () => {
  assert.equal(dispatcher({}).hasHandlers, false);
  assert.equal(dispatcher({ callback: () => undefined }).hasHandlers, true);
});
