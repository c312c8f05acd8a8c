/**
 * The behaviour every `Ledger` store must have, as one suite run against each store
 * (test/ledger/sqlite.test.ts, test/ledger/postgres.test.ts), in the manner of undici's
 * `cacheStoreTests`. It follows the life of a row described at the top of src/ledger/ledger.ts.
 *
 * Times are explicit (`now`) everywhere, so nothing here depends on the clock.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaseLostError, LedgerError, RadarlibError } from '../../src/errors.js';
import { FILE_STATES } from '../../src/ledger/ledger.js';
import type { Claim, FileRecord, Ledger, ListedFile, ObserveOptions } from '../../src/ledger/ledger.js';

export interface LedgerContractOptions {
  /** Opens the same store again after `ledger.close()`; enables the persistence tests. */
  reopen?: (closed: Ledger) => Promise<Ledger>;
  /**
   * Makes the store refuse, inside its transaction, any write that records `localPath` as a row's
   * local path (a trigger): enables the group-commit atomicity test.
   */
  refuseLocalPath?: (ledger: Ledger, localPath: string) => Promise<void>;
  /** Skips the whole suite, with the reason shown. */
  skip?: string | false;
}

const MIN = 60_000;
const T0 = Date.UTC(2025, 9, 20, 15, 0, 0); // 2025-10-20T15:00:00Z
/** minAge that never makes a file ready at once: only two equal listings do. */
const STABLE_ONLY = { minAgeMs: Number.POSITIVE_INFINITY };
const LEASE = { leaseMs: 30_000, owner: 'test-a' };

function file(remotePath: string, size: number, mtime: number | null = T0): ListedFile {
  return { remotePath, size, mtime };
}

/** Lists `files` twice so they become ready. */
async function makeReady(ledger: Ledger, source: string, files: ListedFile[], now = T0 + MIN): Promise<void> {
  await ledger.observe(source, files, { now, ...STABLE_ONLY });
  await ledger.observe(source, files, { now: now + 1000, ...STABLE_ONLY });
}

/** Observes and returns the counts the older tests assert (the newer fields have their own tests). */
async function tally(
  ledger: Ledger,
  source: string,
  files: ListedFile[],
  options: ObserveOptions,
): Promise<{ added: number; becameReady: number }> {
  const { added, becameReady } = await ledger.observe(source, files, options);
  return { added, becameReady };
}

async function only(ledger: Ledger, source: string, remotePath: string): Promise<FileRecord[]> {
  const rows = await ledger.recent({ source, limit: 1000 });
  return rows.filter((r) => r.remotePath === remotePath).sort((a, b) => a.id - b.id);
}

async function claimOne(ledger: Ledger, source: string, now: number): Promise<Claim> {
  const claims = await ledger.claimReady(source, 1, { now, ...LEASE });
  assert.equal(claims.length, 1, 'expected one claim');
  return claims[0] as Claim;
}

export function ledgerContract(
  name: string,
  makeLedger: () => Promise<Ledger>,
  cleanup: (ledger: Ledger) => Promise<void>,
  options: LedgerContractOptions = {},
): void {
  /** Runs `fn` on a fresh, empty ledger and always closes and cleans up. */
  async function use(fn: (ledger: Ledger) => Promise<Ledger | void>): Promise<void> {
    let ledger = await makeLedger();
    try {
      ledger = (await fn(ledger)) ?? ledger;
    } finally {
      await ledger.close();
      await cleanup(ledger);
    }
  }

  describe(`Ledger contract: ${name}`, { skip: options.skip ?? false }, () => {
    test('a new file is seen, then ready when a second listing shows it unchanged', () =>
      use(async (l) => {
        const f = file('/radar/RMA1_0315_01_DBZH_20251020T150000Z.BUFR', 1000);
        assert.deepEqual(await tally(l, 's1', [f], { now: T0 + MIN, ...STABLE_ONLY }), {
          added: 1,
          becameReady: 0,
        });
        let [row] = await only(l, 's1', f.remotePath);
        assert.ok(row);
        assert.equal(row.state, 'seen');
        assert.equal(row.source, 's1');
        assert.equal(row.size, 1000);
        assert.equal(row.mtime, T0);
        assert.equal(row.attempts, 0);
        assert.equal(row.firstSeenAt, T0 + MIN);
        assert.deepEqual(await tally(l, 's1', [f], { now: T0 + 2 * MIN, ...STABLE_ONLY }), {
          added: 0,
          becameReady: 1,
        });
        [row] = await only(l, 's1', f.remotePath);
        assert.equal(row?.state, 'ready');
        assert.equal(row?.updatedAt, T0 + 2 * MIN);
        assert.equal(row?.firstSeenAt, T0 + MIN);
        // A third listing changes nothing.
        assert.deepEqual(await tally(l, 's1', [f], { now: T0 + 3 * MIN, ...STABLE_ONLY }), {
          added: 0,
          becameReady: 0,
        });
        assert.equal((await l.counts('s1')).ready, 1);
      }));

    test('a file that grows between listings stays seen, updated in place, until it stops', () =>
      use(async (l) => {
        const p = '/radar/growing.BUFR';
        await tally(l, 's1', [file(p, 100, T0)], { now: T0 + 1000, ...STABLE_ONLY });
        const [first] = await only(l, 's1', p);
        assert.deepEqual(
          await tally(l, 's1', [file(p, 200, T0 + 1000)], { now: T0 + 2000, ...STABLE_ONLY }),
          {
            added: 0,
            becameReady: 0,
          },
        );
        // Size only (same mtime) is a change too.
        await tally(l, 's1', [file(p, 300, T0 + 1000)], { now: T0 + 3000, ...STABLE_ONLY });
        let rows = await only(l, 's1', p);
        assert.equal(rows.length, 1, 'a growing upload is one row, not one per listing');
        assert.equal(rows[0]?.id, first?.id);
        assert.equal(rows[0]?.state, 'seen');
        assert.equal(rows[0]?.size, 300);
        assert.equal(rows[0]?.mtime, T0 + 1000);
        assert.deepEqual(
          await tally(l, 's1', [file(p, 300, T0 + 1000)], { now: T0 + 4000, ...STABLE_ONLY }),
          {
            added: 0,
            becameReady: 1,
          },
        );
        rows = await only(l, 's1', p);
        assert.equal(rows.length, 1);
        assert.equal(rows[0]?.state, 'ready');
      }));

    test('without mtime, size alone decides stability and minAge never applies', () =>
      use(async (l) => {
        const p = '/flat/no-mtime.BUFR';
        await tally(l, 's1', [file(p, 10, null)], { now: T0, minAgeMs: 0 });
        assert.equal((await only(l, 's1', p))[0]?.state, 'seen');
        await tally(l, 's1', [file(p, 20, null)], { now: T0 + 1, minAgeMs: 0 });
        assert.equal((await only(l, 's1', p))[0]?.state, 'seen');
        const r = await tally(l, 's1', [file(p, 20, null)], { now: T0 + 2, minAgeMs: 0 });
        assert.equal(r.becameReady, 1);
        const rows = await only(l, 's1', p);
        assert.equal(rows.length, 1);
        assert.equal(rows[0]?.mtime, null);
        assert.equal(rows[0]?.state, 'ready');
      }));

    test('a file older than minAge is ready at once; a younger one waits for a second listing', () =>
      use(async (l) => {
        const old = file('/radar/old.BUFR', 10, T0);
        const young = file('/radar/young.BUFR', 10, T0 + 9 * MIN);
        const r = await tally(l, 's1', [old, young], { now: T0 + 10 * MIN, minAgeMs: 5 * MIN });
        assert.deepEqual(r, { added: 2, becameReady: 1 });
        assert.equal((await only(l, 's1', old.remotePath))[0]?.state, 'ready');
        assert.equal((await only(l, 's1', young.remotePath))[0]?.state, 'seen');
        // A growing file whose new mtime is already old enough becomes ready as it is updated.
        const g = '/radar/grown.BUFR';
        await tally(l, 's1', [file(g, 1, T0 + 10 * MIN)], { now: T0 + 10 * MIN, minAgeMs: 5 * MIN });
        const r2 = await tally(l, 's1', [file(g, 2, T0 + 11 * MIN)], {
          now: T0 + 20 * MIN,
          minAgeMs: 5 * MIN,
        });
        assert.deepEqual(r2, { added: 0, becameReady: 1 });
        assert.equal((await only(l, 's1', g))[0]?.state, 'ready');
      }));

    test('a new version (other size or mtime) of a taken file is a new row; the old one is kept', () =>
      use(async (l) => {
        const p = '/radar/replaced.BUFR';
        await makeReady(l, 's1', [file(p, 100, T0)]);
        const c = await claimOne(l, 's1', T0 + 2 * MIN);
        await l.complete(c, '/data/replaced.BUFR', { now: T0 + 3 * MIN });
        // Same identity again: known, left alone.
        assert.deepEqual(await tally(l, 's1', [file(p, 100, T0)], { now: T0 + 4 * MIN, ...STABLE_ONLY }), {
          added: 0,
          becameReady: 0,
        });
        // Replaced on the server.
        assert.deepEqual(
          await tally(l, 's1', [file(p, 120, T0 + 4 * MIN)], { now: T0 + 5 * MIN, ...STABLE_ONLY }),
          { added: 1, becameReady: 0 },
        );
        let rows = await only(l, 's1', p);
        assert.equal(rows.length, 2);
        assert.equal(rows[0]?.state, 'downloaded');
        assert.equal(rows[0]?.size, 100);
        assert.equal(rows[1]?.state, 'seen');
        assert.equal(rows[1]?.size, 120);
        assert.ok((rows[1]?.id ?? 0) > (rows[0]?.id ?? 0));
        await tally(l, 's1', [file(p, 120, T0 + 4 * MIN)], { now: T0 + 6 * MIN, ...STABLE_ONLY });
        rows = await only(l, 's1', p);
        assert.deepEqual(
          rows.map((r) => r.state),
          ['downloaded', 'ready'],
        );
        // Replaced again while the second version is being downloaded: a third version, and the
        // second is superseded: its claim is gone, so its download can never be committed.
        const c2 = await claimOne(l, 's1', T0 + 7 * MIN);
        assert.equal(c2.record.size, 120);
        const r = await l.observe('s1', [file(p, 130, T0 + 7 * MIN)], { now: T0 + 8 * MIN, ...STABLE_ONLY });
        assert.equal(r.superseded, 1);
        rows = await only(l, 's1', p);
        assert.deepEqual(
          rows.map((r) => [r.size, r.state]),
          [
            [100, 'downloaded'],
            [120, 'superseded'],
            [130, 'seen'],
          ],
        );
        assert.equal(await l.renewLease(c2, { now: T0 + 8 * MIN, leaseMs: 30_000 }), false);
        await assert.rejects(l.complete(c2, '/data/replaced.BUFR', { now: T0 + 9 * MIN }), LeaseLostError);
      }));

    test('a file that appears late in an old folder is still taken (identities, not watermarks)', () =>
      use(async (l) => {
        const day = (d: number, hhmm: string) =>
          `/L2/RMA1/2025/10/${d}/${hhmm.slice(0, 2)}/${hhmm.slice(2)}00`;
        const history = [20, 21, 22].map((d) =>
          file(`${day(d, '1500')}/RMA1_0315_01_DBZH_202510${d}T150000Z.BUFR`, 500, Date.UTC(2025, 9, d, 15)),
        );
        await makeReady(l, 'rma1', history, Date.UTC(2025, 9, 23));
        const claims = await l.claimReady('rma1', 10, { now: Date.UTC(2025, 9, 23, 1), ...LEASE });
        assert.equal(claims.length, 3);
        for (const c of claims)
          await l.complete(c, `/data/${c.record.id}`, { now: Date.UTC(2025, 9, 23, 2) });
        // Two days late, a file lands in the folder of the 20th.
        const late = file(
          `${day(20, '1500')}/RMA1_0315_01_VRAD_20251020T150000Z.BUFR`,
          700,
          Date.UTC(2025, 9, 20, 15),
        );
        const r = await tally(l, 'rma1', [...history, late], {
          now: Date.UTC(2025, 9, 23, 3),
          minAgeMs: MIN,
        });
        assert.deepEqual(r, { added: 1, becameReady: 1 });
        const [c] = await l.claimReady('rma1', 10, { now: Date.UTC(2025, 9, 23, 4), ...LEASE });
        assert.equal(c?.record.remotePath, late.remotePath);
      }));

    test('observe: known rows in later states are left alone; sources are separate; input is checked', () =>
      use(async (l) => {
        const f = file('/a.BUFR', 1);
        await makeReady(l, 's1', [f]);
        const c = await claimOne(l, 's1', T0 + 5 * MIN);
        await tally(l, 's1', [f], { now: T0 + 6 * MIN, minAgeMs: 0 });
        assert.equal((await l.get(c.record.id))?.state, 'downloading');
        // The same path on another source is another file.
        assert.equal((await tally(l, 's2', [f], { now: T0 + 6 * MIN, ...STABLE_ONLY })).added, 1);
        assert.equal((await l.counts('s2')).seen, 1);
        // Empty listing; the same path twice in one listing counts once (the last entry wins).
        assert.deepEqual(await tally(l, 's1', [], { now: T0, minAgeMs: 0 }), { added: 0, becameReady: 0 });
        const r = await tally(l, 's3', [file('/dup', 1), file('/dup', 2)], {
          now: T0 + MIN,
          ...STABLE_ONLY,
        });
        assert.deepEqual(r, { added: 1, becameReady: 0 });
        assert.equal((await only(l, 's3', '/dup'))[0]?.size, 2);
        await assert.rejects(l.observe('s1', [file('/neg', -1)], { now: T0, minAgeMs: 0 }), {
          code: 'RADARLIB_INVALID_ARGUMENT',
        });
        await assert.rejects(l.observe('s1', [file('/frac', 1.5)], { now: T0, minAgeMs: 0 }), {
          code: 'RADARLIB_INVALID_ARGUMENT',
        });
        await assert.rejects(l.observe('', [file('/x', 1)], { now: T0, minAgeMs: 0 }), {
          code: 'RADARLIB_INVALID_ARGUMENT',
        });
      }));

    test('claimReady: oldest first, up to limit, one source, each row once, with distinct tokens', () =>
      use(async (l) => {
        const files = Array.from({ length: 5 }, (_, i) => file(`/f${i}.BUFR`, 10 + i));
        await makeReady(l, 's1', files);
        await makeReady(l, 's2', [file('/other.BUFR', 1)]);
        await makeReady(l, 's1', [file('/f-later.BUFR', 1)], T0 + 10 * MIN);
        const now = T0 + 20 * MIN;
        const a = await l.claimReady('s1', 2, { now, ...LEASE });
        assert.deepEqual(
          a.map((c) => c.record.remotePath),
          ['/f0.BUFR', '/f1.BUFR'],
        );
        for (const c of a) {
          assert.equal(c.record.state, 'downloading');
          assert.equal(c.leaseUntil, now + LEASE.leaseMs);
          assert.equal(typeof c.token, 'string');
          assert.ok(c.token.length >= 16);
        }
        const b = await l.claimReady('s1', 10, { now, leaseMs: 1000, owner: 'test-b' });
        assert.deepEqual(
          b.map((c) => c.record.remotePath),
          ['/f2.BUFR', '/f3.BUFR', '/f4.BUFR', '/f-later.BUFR'],
        );
        const tokens = new Set([...a, ...b].map((c) => c.token));
        assert.equal(tokens.size, 6);
        assert.deepEqual(await l.claimReady('s1', 10, { now, ...LEASE }), []);
        assert.deepEqual(await l.claimReady('s2', 0, { now, ...LEASE }), []);
        assert.equal((await l.counts('s1')).downloading, 6);
        assert.equal((await l.counts('s2')).ready, 1);
        // seen rows are never claimed
        await tally(l, 's3', [file('/just-seen', 1)], { now, ...STABLE_ONLY });
        assert.deepEqual(await l.claimReady('s3', 10, { now, ...LEASE }), []);
      }));

    test('complete -> downloaded -> pendingCallbacks -> markProcessed', () =>
      use(async (l) => {
        await makeReady(l, 's1', [file('/a.BUFR', 1), file('/b.BUFR', 2)]);
        const [ca, cb] = await l.claimReady('s1', 2, { now: T0 + 5 * MIN, ...LEASE });
        assert.ok(ca && cb);
        const done = await l.complete(ca, '/data/a.BUFR', { now: T0 + 6 * MIN });
        assert.equal(done.id, ca.record.id);
        assert.equal(done.state, 'downloaded');
        assert.equal(done.attempts, 1);
        assert.equal(done.localPath, '/data/a.BUFR');
        assert.equal(done.downloadedAt, T0 + 6 * MIN);
        assert.equal(done.updatedAt, T0 + 6 * MIN);
        assert.equal(done.processedAt, null);
        assert.deepEqual(await l.get(done.id), done);
        await l.complete(cb, '/data/b.BUFR', { now: T0 + 7 * MIN });
        assert.deepEqual(
          (await l.pendingCallbacks('s1', 10)).map((r) => r.remotePath),
          ['/a.BUFR', '/b.BUFR'],
        );
        assert.equal((await l.pendingCallbacks('s1', 1)).length, 1);
        assert.deepEqual(await l.pendingCallbacks('s2', 10), []);
        await l.markProcessed(ca.record.id, null, { now: T0 + 8 * MIN });
        await l.markProcessed(cb.record.id, 'CallbackError: boom', { now: T0 + 9 * MIN });
        assert.deepEqual(await l.pendingCallbacks('s1', 10), []);
        const a = await l.get(ca.record.id);
        const b = await l.get(cb.record.id);
        assert.equal(a?.state, 'processed');
        assert.equal(a?.callbackError, null);
        assert.equal(a?.processedAt, T0 + 8 * MIN);
        assert.equal(b?.state, 'processed');
        assert.equal(b?.callbackError, 'CallbackError: boom');
        // Recording the outcome again (a callback re-run after a crash) is allowed.
        await l.markProcessed(cb.record.id, null, { now: T0 + 10 * MIN });
        assert.equal((await l.get(cb.record.id))?.callbackError, null);
        // A row that was never downloaded cannot be processed.
        await makeReady(l, 's1', [file('/c.BUFR', 3)]);
        const [c] = await only(l, 's1', '/c.BUFR');
        await assert.rejects(l.markProcessed(c?.id ?? -1, null, { now: T0 }), (err: unknown) => {
          assert.ok(err instanceof LedgerError);
          assert.match(err.message, /ready/);
          return true;
        });
        await assert.rejects(l.markProcessed(987654321, null, { now: T0 }), LedgerError);
      }));

    test('fail with a retry time: back to ready after the backoff; without one: failed, then retryFailed', () =>
      use(async (l) => {
        await makeReady(l, 's1', [file('/a.BUFR', 1)]);
        await makeReady(l, 's2', [file('/z.BUFR', 1)]);
        let c = await claimOne(l, 's1', T0 + 5 * MIN);
        assert.equal(
          await l.fail(c, 'FtpTimeoutError: no data for 30000 ms', {
            now: T0 + 6 * MIN,
            retryAt: T0 + 8 * MIN,
          }),
          true,
        );
        let row = await l.get(c.record.id);
        assert.equal(row?.state, 'ready');
        assert.equal(row?.attempts, 1);
        assert.equal(row?.lastError, 'FtpTimeoutError: no data for 30000 ms');
        assert.equal(row?.nextAttemptAt, T0 + 8 * MIN);
        assert.deepEqual(
          await l.claimReady('s1', 10, { now: T0 + 7 * MIN, ...LEASE }),
          [],
          'still backing off',
        );
        c = await claimOne(l, 's1', T0 + 8 * MIN);
        assert.equal(await l.fail(c, 'FtpReplyError: 550', { now: T0 + 9 * MIN, retryAt: null }), true);
        row = await l.get(c.record.id);
        assert.equal(row?.state, 'failed');
        assert.equal(row?.attempts, 2);
        assert.equal(row?.lastError, 'FtpReplyError: 550');
        assert.deepEqual(await l.claimReady('s1', 10, { now: T0 + 60 * MIN, ...LEASE }), []);
        const z = await claimOne(l, 's2', T0 + 5 * MIN);
        await l.fail(z, 'x', { now: T0 + 6 * MIN, retryAt: null });
        assert.equal((await l.counts()).failed, 2);
        assert.equal(await l.retryFailed('s1'), 1);
        assert.equal((await l.counts()).failed, 1);
        row = await l.get(c.record.id);
        assert.equal(row?.state, 'ready');
        assert.equal(row?.attempts, 0);
        assert.equal(row?.nextAttemptAt, null);
        assert.equal((await claimOne(l, 's1', T0 + 61 * MIN)).record.id, c.record.id);
        assert.equal(await l.retryFailed(), 1);
        assert.equal(await l.retryFailed(), 0);
        assert.equal((await l.counts('s2')).ready, 1);
      }));

    test('a lost lease: reclaimed by reclaimExpired, then complete throws LeaseLostError and fail returns false', () =>
      use(async (l) => {
        await makeReady(l, 's1', [file('/a.BUFR', 1), file('/b.BUFR', 2)]);
        const now = T0 + 5 * MIN;
        const [old, keep] = await l.claimReady('s1', 2, { now, leaseMs: 10_000, owner: 'dead-instance' });
        assert.ok(old && keep);
        assert.equal(await l.reclaimExpired({ now: now + 9_999 }), 0, 'leases still running');
        assert.equal(await l.renewLease(keep, { now: now + 9_000, leaseMs: 10_000 }), true);
        assert.equal(keep.leaseUntil, now + 19_000, 'renewLease updates the claim');
        assert.equal(await l.reclaimExpired({ now: now + 10_000 }), 1, 'only the lease that was not renewed');
        const back = await l.get(old.record.id);
        assert.equal(back?.state, 'ready');
        assert.equal(back?.attempts, 0);
        assert.match(back?.lastError ?? '', /dead-instance/);
        assert.equal((await l.get(keep.record.id))?.state, 'downloading');
        // The old holder wakes up: nothing it does may commit.
        assert.equal(await l.renewLease(old, { now: now + 11_000, leaseMs: 10_000 }), false);
        await assert.rejects(l.complete(old, '/data/a', { now: now + 11_000 }), (err: unknown) => {
          assert.ok(err instanceof LeaseLostError);
          assert.ok(err instanceof RadarlibError);
          assert.equal(err.code, 'RADARLIB_LEASE_LOST');
          assert.equal(err.remotePath, '/a.BUFR');
          return true;
        });
        assert.equal(await l.fail(old, 'late', { now: now + 11_000, retryAt: now + 20_000 }), false);
        // Another instance claims it with a new token; the old token still cannot commit.
        const fresh = await claimOne(l, 's1', now + 12_000);
        assert.equal(fresh.record.id, old.record.id);
        assert.notEqual(fresh.token, old.token);
        await assert.rejects(l.complete(old, '/data/a', { now: now + 13_000 }), LeaseLostError);
        const done = await l.complete(fresh, '/data/a', { now: now + 13_000 });
        assert.equal(done.state, 'downloaded');
        assert.equal(done.attempts, 1);
        // After completion the token is spent: a second complete or fail is a lost lease too.
        await assert.rejects(l.complete(fresh, '/data/a', { now: now + 14_000 }), LeaseLostError);
        assert.equal(await l.fail(fresh, 'x', { now: now + 14_000, retryAt: null }), false);
        assert.equal((await l.get(old.record.id))?.state, 'downloaded');
        // The renewed lease expires later on.
        assert.equal(await l.reclaimExpired({ now: now + 19_000 }), 1);
        assert.equal(await l.reclaimExpired({ now: now + 99_000 }), 0);
      }));

    test('counts and recent', () =>
      use(async (l) => {
        const zero = Object.fromEntries(FILE_STATES.map((s) => [s, 0]));
        assert.deepEqual(await l.counts(), zero);
        await tally(l, 's1', [file('/seen', 1)], { now: T0, ...STABLE_ONLY });
        await makeReady(l, 's1', [file('/a', 1), file('/b', 1), file('/c', 1)], T0 + MIN);
        await makeReady(l, 's2', [file('/x', 1)], T0 + MIN);
        const [ca, cb] = await l.claimReady('s1', 2, { now: T0 + 3 * MIN, ...LEASE });
        assert.ok(ca && cb);
        await l.complete(ca, '/data/a', { now: T0 + 4 * MIN });
        await l.fail(cb, 'e', { now: T0 + 5 * MIN, retryAt: null });
        assert.deepEqual(await l.counts('s1'), { ...zero, seen: 1, ready: 1, downloaded: 1, failed: 1 });
        assert.deepEqual(await l.counts('s2'), { ...zero, ready: 1 });
        assert.deepEqual(await l.counts(), { ...zero, seen: 1, ready: 2, downloaded: 1, failed: 1 });
        assert.deepEqual(await l.counts('nope'), zero);

        const all = await l.recent({ limit: 10 });
        assert.equal(all.length, 5);
        for (let i = 1; i < all.length; i++) {
          const [p, q] = [all[i - 1] as FileRecord, all[i] as FileRecord];
          assert.ok(
            p.updatedAt > q.updatedAt || (p.updatedAt === q.updatedAt && p.id > q.id),
            'newest first',
          );
        }
        assert.deepEqual(
          all.slice(0, 2).map((r) => r.remotePath),
          ['/b', '/a'],
        );
        assert.deepEqual(
          (await l.recent({ states: ['failed'], limit: 10 })).map((r) => [r.remotePath, r.lastError]),
          [['/b', 'e']],
        );
        assert.deepEqual(
          (await l.recent({ states: ['ready', 'seen'], source: 's1', limit: 10 })).map((r) => r.remotePath),
          ['/c', '/seen'],
        );
        assert.equal((await l.recent({ limit: 2 })).length, 2);
        assert.deepEqual(await l.recent({ source: 's2', states: ['downloaded'], limit: 5 }), []);
        assert.equal(await l.get(123456789), null);
      }));

    test('withSourceLock: runs fn once per source at a time, returns its value, frees on throw', () =>
      use(async (l) => {
        assert.equal(await l.withSourceLock('s1', async () => 42), 42);
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let ran = 0;
        const holder = l.withSourceLock('s1', async () => {
          ran++;
          await gate;
          return 'first';
        });
        // Let the holder take the lock (bounded wait).
        for (let i = 0; i < 200 && ran === 0; i++) await new Promise((r) => setTimeout(r, 5));
        assert.equal(ran, 1);
        assert.equal(
          await l.withSourceLock('s1', async () => 'second'),
          null,
          'the source is being listed already',
        );
        assert.equal(
          await l.withSourceLock('s2', async () => 'other'),
          'other',
          'other sources are independent',
        );
        release();
        assert.equal(await holder, 'first');
        await assert.rejects(
          l.withSourceLock('s1', async () => {
            throw new Error('listing failed');
          }),
          /listing failed/,
        );
        assert.equal(await l.withSourceLock('s1', async () => 'again'), 'again', 'freed after a throw');
      }));

    test('the whole life of a file: seen, ready, downloading, downloaded, processed', () =>
      use(async (l) => {
        const f = file('/L2/RMA1/2025/10/20/15/0000/RMA1_0315_01_DBZH_20251020T150000Z.BUFR', 4096, T0);
        const listed = await l.withSourceLock('rma1', () =>
          tally(l, 'rma1', [f], { now: T0 + 10, minAgeMs: MIN }),
        );
        assert.deepEqual(listed, { added: 1, becameReady: 0 });
        await l.withSourceLock('rma1', () => l.observe('rma1', [f], { now: T0 + 20_000, minAgeMs: MIN }));
        const c = await claimOne(l, 'rma1', T0 + 21_000);
        assert.equal(await l.renewLease(c, { now: T0 + 25_000, leaseMs: 30_000 }), true);
        const rec = await l.complete(c, '/data/RMA1/x.BUFR', { now: T0 + 30_000 });
        assert.deepEqual(
          (await l.pendingCallbacks('rma1', 5)).map((r) => r.id),
          [rec.id],
        );
        await l.markProcessed(rec.id, null, { now: T0 + 31_000 });
        const end = await l.get(rec.id);
        assert.equal(end?.state, 'processed');
        assert.equal(end?.firstSeenAt, T0 + 10);
        assert.equal(end?.downloadedAt, T0 + 30_000);
        assert.equal(end?.processedAt, T0 + 31_000);
        assert.equal(end?.localPath, '/data/RMA1/x.BUFR');
        assert.equal(end?.attempts, 1);
        // Listed again forever after: nothing to do.
        assert.deepEqual(await tally(l, 'rma1', [f], { now: T0 + 99 * MIN, minAgeMs: MIN }), {
          added: 0,
          becameReady: 0,
        });
      }));

    test('identity survives LIST switching from hh:mm to the year, and MLSD seconds vs LIST minutes', () =>
      use(async (l) => {
        const p = '/L2/RMA1/2025/06/04/21/1900/RMA1_0315_01_DBZH_20250604T211900Z.BUFR';
        // Listed at minute precision: 21:19 (already corrected to UTC), the real mtime 21:19:42.
        const minute = Date.UTC(2025, 5, 4, 21, 19);
        const recent: ListedFile = { remotePath: p, size: 500, mtime: minute, mtimePrecisionMs: 60_000 };
        await makeReady(l, 's1', [recent]);
        const c = await claimOne(l, 's1', T0);
        await l.complete(c, '/data/x.BUFR', { now: T0 });
        // Six months later LIST shows `Jun 04  2025`: the day's start, day precision. Same version.
        const dayStart = Date.UTC(2025, 5, 4);
        const old: ListedFile = { remotePath: p, size: 500, mtime: dayStart, mtimePrecisionMs: 86_400_000 };
        let r = await l.observe('s1', [old], { now: T0 + MIN, minAgeMs: 0 });
        assert.equal(r.added, 0, 'a date-only listing of the same file is not a new version');
        // The server switched to MLSD: seconds inside that minute are the same version too.
        const mlsd: ListedFile = { remotePath: p, size: 500, mtime: minute + 42_000, mtimePrecisionMs: 1000 };
        r = await l.observe('s1', [mlsd], { now: T0 + 2 * MIN, minAgeMs: 0 });
        assert.equal(r.added, 0, 'MLSD seconds inside the LIST minute are the same version');
        // Another day, or another size, is another version.
        const nextDay: ListedFile = { ...old, mtime: dayStart + 86_400_000 };
        assert.equal((await l.observe('s1', [nextDay], { now: T0 + 3 * MIN, minAgeMs: 0 })).added, 1);
        const rows = await only(l, 's1', p);
        assert.deepEqual(
          rows.map((x) => [x.state, x.mtimePrecisionMs]),
          [
            ['downloaded', 60_000],
            ['ready', 86_400_000],
          ],
        );
      }));

    test('settle: unchanged listings become ready only once the quiet period has passed', () =>
      use(async (l) => {
        const p = '/radar/pausing.BUFR';
        const settleMs = 30_000;
        const opts = (now: number) => ({ now, minAgeMs: Number.POSITIVE_INFINITY, settleMs });
        let r = await l.observe('s1', [file(p, 100, T0)], opts(T0));
        assert.equal(r.settleDueAt, T0 + settleMs);
        // The upload pauses: two equal listings 10 s apart are not enough.
        r = await l.observe('s1', [file(p, 100, T0)], opts(T0 + 10_000));
        assert.equal(r.becameReady, 0);
        assert.equal(r.settleDueAt, T0 + settleMs);
        // It grows again: the quiet period starts over.
        r = await l.observe('s1', [file(p, 200, T0 + 20_000)], opts(T0 + 25_000));
        assert.equal(r.settleDueAt, T0 + 25_000 + settleMs);
        r = await l.observe('s1', [file(p, 200, T0 + 20_000)], opts(T0 + 50_000));
        assert.equal(r.becameReady, 0);
        let [row] = await only(l, 's1', p);
        assert.equal(row?.state, 'seen');
        assert.equal(row?.stableSince, T0 + 25_000);
        assert.equal(row?.readyAt, null);
        r = await l.observe('s1', [file(p, 200, T0 + 20_000)], opts(T0 + 55_000));
        assert.equal(r.becameReady, 1);
        assert.equal(r.settleDueAt, null);
        [row] = await only(l, 's1', p);
        assert.equal(row?.state, 'ready');
        assert.equal(row?.readyAt, T0 + 55_000);
        assert.equal(row?.firstSeenAt, T0);
        assert.equal(row?.size, 200);
      }));

    test('superseded: a new version retires older ones not yet downloaded; downloaded ones stay', () =>
      use(async (l) => {
        const p = '/radar/rewritten.BUFR';
        await makeReady(l, 's1', [file(p, 100, T0)]);
        // v1 waits in the queue (ready); v2 appears.
        let r = await l.observe('s1', [file(p, 110, T0 + MIN)], { now: T0 + 3 * MIN, ...STABLE_ONLY });
        assert.deepEqual([r.added, r.superseded], [1, 1]);
        assert.deepEqual(
          (await only(l, 's1', p)).map((x) => x.state),
          ['superseded', 'seen'],
        );
        assert.deepEqual(await l.claimReady('s1', 10, { now: T0 + 4 * MIN, ...LEASE }), []);
        // v2 fails for good, then v3 appears: the failed v2 is superseded too.
        await l.observe('s1', [file(p, 110, T0 + MIN)], { now: T0 + 5 * MIN, ...STABLE_ONLY });
        const c = await claimOne(l, 's1', T0 + 6 * MIN);
        await l.fail(c, 'boom', { now: T0 + 6 * MIN, retryAt: null });
        r = await l.observe('s1', [file(p, 120, T0 + 7 * MIN)], { now: T0 + 8 * MIN, ...STABLE_ONLY });
        assert.equal(r.superseded, 1);
        // v3 downloaded, then v4: v3 stays downloaded.
        await l.observe('s1', [file(p, 120, T0 + 7 * MIN)], { now: T0 + 9 * MIN, ...STABLE_ONLY });
        const c3 = await claimOne(l, 's1', T0 + 10 * MIN);
        await l.complete(c3, '/data/rewritten.BUFR', { now: T0 + 10 * MIN });
        r = await l.observe('s1', [file(p, 130, T0 + 11 * MIN)], { now: T0 + 12 * MIN, ...STABLE_ONLY });
        assert.deepEqual([r.added, r.superseded], [1, 0]);
        assert.deepEqual(
          (await only(l, 's1', p)).map((x) => x.state),
          ['superseded', 'superseded', 'downloaded', 'seen'],
        );
        assert.equal((await l.counts('s1')).superseded, 2);
      }));

    test('vanished: gone from a complete listing of its folder; other folders and done rows untouched', () =>
      use(async (l) => {
        const a = file('/d1/a.BUFR', 1);
        const b = file('/d1/b.BUFR', 2);
        const done = file('/d1/done.BUFR', 3);
        const elsewhere = file('/d2/c.BUFR', 4);
        const failing = file('/d1/failing.BUFR', 5);
        await makeReady(l, 's1', [done, failing]);
        const claims = await l.claimReady('s1', 2, { now: T0 + 2 * MIN, ...LEASE });
        const byPath = new Map(claims.map((c) => [c.record.remotePath, c]));
        await l.complete(byPath.get(done.remotePath) as Claim, '/data/done', { now: T0 + 2 * MIN });
        // RETR said 550: retried later (the next listing decides).
        await l.fail(byPath.get(failing.remotePath) as Claim, 'RADARLIB_FTP: 550', {
          now: T0 + 2 * MIN,
          retryAt: T0 + 10 * MIN,
        });
        await l.observe('s1', [a, b, elsewhere], { now: T0 + 3 * MIN, ...STABLE_ONLY });
        // Only /d1 was listed (completely): b and the failing file are gone, c was not looked at.
        const r = await l.observe('s1', [a], {
          now: T0 + 4 * MIN,
          ...STABLE_ONLY,
          completeFolders: ['/d1'],
        });
        assert.equal(r.vanished, 2);
        const state = async (f: ListedFile) => (await only(l, 's1', f.remotePath))[0]?.state;
        assert.equal(await state(a), 'ready');
        assert.equal(await state(b), 'vanished');
        assert.equal(await state(failing), 'vanished');
        assert.equal(await state(done), 'downloaded');
        assert.equal(await state(elsewhere), 'seen');
        assert.equal((await l.counts('s1')).vanished, 2);
        assert.deepEqual(
          (await l.claimReady('s1', 10, { now: T0 + 20 * MIN, ...LEASE })).map((c) => c.record.remotePath),
          [a.remotePath],
        );
        // An empty folder listing vanishes the rest, and b coming back makes it seen again.
        await l.observe('s1', [], { now: T0 + 5 * MIN, ...STABLE_ONLY, completeFolders: ['/d2'] });
        assert.equal(await state(elsewhere), 'vanished');
        await l.observe('s1', [b], { now: T0 + 6 * MIN, ...STABLE_ONLY, completeFolders: ['/d1'] });
        assert.equal(await state(b), 'seen');
        assert.equal((await only(l, 's1', b.remotePath)).length, 1);
      }));

    test('requeue: an incomplete download goes back to seen without spending an attempt', () =>
      use(async (l) => {
        const p = '/radar/paused-upload.BUFR';
        await makeReady(l, 's1', [file(p, 100, T0)]);
        const c = await claimOne(l, 's1', T0 + 2 * MIN);
        assert.equal(await l.requeue(c, 'RADARLIB_INCOMPLETE_FILE: no 7777', { now: T0 + 3 * MIN }), true);
        let [row] = await only(l, 's1', p);
        assert.equal(row?.state, 'seen');
        assert.equal(row?.attempts, 0);
        assert.equal(row?.stableSince, T0 + 3 * MIN);
        assert.equal(row?.readyAt, null);
        assert.match(row?.lastError ?? '', /7777/);
        assert.equal(
          await l.complete(c, '/x', { now: T0 }).catch((e: unknown) => e instanceof LeaseLostError),
          true,
        );
        assert.equal(await l.requeue(c, 'again', { now: T0 + 4 * MIN }), false);
        // Unchanged after the settle period: ready again.
        const r = await l.observe('s1', [file(p, 100, T0)], {
          now: T0 + 5 * MIN,
          minAgeMs: Infinity,
          settleMs: MIN,
        });
        assert.equal(r.becameReady, 1);
        [row] = await only(l, 's1', p);
        assert.equal(row?.state, 'ready');
      }));

    test('a requeued row is not ready again on minAge: only after the settle period, even when it grows', () =>
      use(async (l) => {
        const p = '/radar/looks-old.BUFR';
        // Read as UTC, a fresh LIST time of a UTC-3 server looks 3 h old: minAge (2 min) passes.
        const old = T0 - 3 * 60 * MIN;
        const opts = (now: number) => ({ now, minAgeMs: 2 * MIN, settleMs: 10_000 });
        assert.equal((await l.observe('s1', [file(p, 100, old)], opts(T0))).becameReady, 1);
        const c = await claimOne(l, 's1', T0);
        assert.equal(await l.requeue(c, 'RADARLIB_INCOMPLETE_FILE: no 7777', { now: T0 + 1000 }), true);
        // The next listing, 1 s later, unchanged: old by minAge, but it was being written.
        let r = await l.observe('s1', [file(p, 100, old)], opts(T0 + 2000));
        assert.equal(r.becameReady, 0, 'not on minAge');
        assert.equal(r.settleDueAt, T0 + 1000 + 10_000);
        // It grew: still only the settle period counts (from the change).
        r = await l.observe('s1', [file(p, 200, old + MIN)], opts(T0 + 3000));
        assert.equal(r.becameReady, 0, 'a change alone does not ready it either');
        r = await l.observe('s1', [file(p, 200, old + MIN)], opts(T0 + 3000 + 10_000));
        assert.equal(r.becameReady, 1, 'ready once unchanged for the settle period');
        assert.equal((await only(l, 's1', p)).length, 1, 'one row: the pieces are one version');
      }));

    test('a zone offset learned later does not make a known file new: the row is re-keyed', () =>
      use(async (l) => {
        const p = '/L2/RMA1/x.BUFR';
        const wall = Date.UTC(2025, 9, 20, 12, 0); // the server's LIST reading, in UTC-3
        const HOUR = 60 * MIN;
        // Recorded while the zone was taken as UTC (offset 0), downloaded.
        const asUtc: ListedFile = {
          remotePath: p,
          size: 500,
          mtime: wall,
          mtimePrecisionMs: MIN,
          zoneOffsetMs: 0,
        };
        await makeReady(l, 's1', [asUtc]);
        const c = await claimOne(l, 's1', T0);
        await l.complete(c, '/data/x.BUFR', { now: T0 });
        // The zone is learned (UTC-3): same reading, corrected mtime 3 h later. Same version.
        const learned: ListedFile = { ...asUtc, mtime: wall + 3 * HOUR, zoneOffsetMs: -3 * HOUR };
        let r = await l.observe('s1', [learned], { now: T0 + MIN, minAgeMs: 0 });
        assert.equal(r.added, 0, 'not a new version');
        let rows = await only(l, 's1', p);
        assert.deepEqual(
          rows.map((x) => [x.state, x.mtime, x.zoneOffsetMs]),
          [['downloaded', wall + 3 * HOUR, -3 * HOUR]],
          'the row now carries the corrected time',
        );
        // After a restart the zone is not known yet (offset 0 again, uncertain): still the same
        // version, and the learned time stays.
        const restarted: ListedFile = { ...asUtc, mtimeUncertaintyMs: 12 * HOUR };
        r = await l.observe('s1', [restarted], { now: T0 + 2 * MIN, minAgeMs: 0 });
        assert.equal(r.added, 0, 'not a new version after a restart either');
        assert.equal((await only(l, 's1', p))[0]?.mtime, wall + 3 * HOUR);
        // A real change of the server's reading is a new version.
        r = await l.observe('s1', [{ ...learned, mtime: learned.mtime! + MIN }], {
          now: T0 + 3 * MIN,
          minAgeMs: 0,
        });
        assert.equal(r.added, 1);
        rows = await only(l, 's1', p);
        assert.equal(rows.length, 2);
      }));

    test('mtimeUncertaintyMs: a file whose zone is not known is not ready on its apparent age', () =>
      use(async (l) => {
        const looksOld: ListedFile = {
          remotePath: '/radar/fresh.BUFR',
          size: 100,
          mtime: T0 - 3 * 60 * MIN,
          mtimePrecisionMs: MIN,
          mtimeUncertaintyMs: 12 * 60 * MIN,
        };
        let r = await l.observe('s1', [looksOld], { now: T0, minAgeMs: 2 * MIN, settleMs: 10_000 });
        assert.deepEqual([r.added, r.becameReady], [1, 0], 'seen, not ready at first sight');
        r = await l.observe('s1', [looksOld], { now: T0 + 10_000, minAgeMs: 2 * MIN, settleMs: 10_000 });
        assert.equal(r.becameReady, 1, 'ready after the settle period');
        // Older than minAge even in the farthest zone: ready at first sight. minAge 0 ignores it.
        const ancient = { ...looksOld, remotePath: '/radar/ancient.BUFR', mtime: T0 - 13 * 60 * MIN };
        const zero = { ...looksOld, remotePath: '/radar/zero.BUFR' };
        assert.equal((await l.observe('s1', [ancient], { now: T0, minAgeMs: 2 * MIN })).becameReady, 1);
        assert.equal((await l.observe('s1', [zero], { now: T0, minAgeMs: 0 })).becameReady, 1);
      }));

    test('after close, calls fail with LedgerError', () =>
      use(async (l) => {
        await l.close();
        await l.close(); // idempotent
        await assert.rejects(l.counts(), LedgerError);
        await assert.rejects(l.observe('s1', [file('/a', 1)], { now: T0, minAgeMs: 0 }), LedgerError);
      }));

    test(
      'persistence: everything survives close and reopen; claims of a dead process are reclaimable',
      { skip: options.reopen === undefined ? 'this store has no reopen' : false },
      () =>
        use(async (first) => {
          const reopen = options.reopen as (closed: Ledger) => Promise<Ledger>;
          await makeReady(first, 's1', [file('/done', 1), file('/pending-cb', 2), file('/inflight', 3)]);
          await first.observe('s1', [file('/seen', 4)], { now: T0 + 2 * MIN, ...STABLE_ONLY });
          const claims = await first.claimReady('s1', 3, { now: T0 + 3 * MIN, leaseMs: 60_000, owner: 'p1' });
          const by = new Map(claims.map((c) => [c.record.remotePath, c]));
          const done = await first.complete(by.get('/done') as Claim, '/data/done', { now: T0 + 4 * MIN });
          await first.markProcessed(done.id, null, { now: T0 + 4 * MIN });
          await first.complete(by.get('/pending-cb') as Claim, '/data/pending-cb', { now: T0 + 4 * MIN });
          const before = await first.counts();
          await first.close();

          const second = await reopen(first);
          assert.equal(second.backend, first.backend);
          assert.deepEqual(await second.counts(), before);
          assert.deepEqual(before, {
            seen: 1,
            ready: 0,
            downloading: 1,
            downloaded: 1,
            processed: 1,
            failed: 0,
            superseded: 0,
            vanished: 0,
          });
          assert.deepEqual(
            (await second.pendingCallbacks('s1', 10)).map((r) => r.remotePath),
            ['/pending-cb'],
          );
          // Completed files are never offered again.
          assert.deepEqual(
            await tally(second, 's1', [file('/done', 1), file('/pending-cb', 2)], {
              now: T0 + 5 * MIN,
              minAgeMs: 0,
            }),
            { added: 0, becameReady: 0 },
          );
          // The crashed process's in-flight download comes back once its lease ends.
          assert.deepEqual(await second.claimReady('s1', 10, { now: T0 + 3 * MIN + 59_000, ...LEASE }), []);
          assert.equal(await second.reclaimExpired({ now: T0 + 3 * MIN + 60_000 }), 1);
          const again = await claimOne(second, 's1', T0 + 5 * MIN);
          assert.equal(again.record.remotePath, '/inflight');
          // The seen row still needs its second listing.
          assert.equal(
            (await second.observe('s1', [file('/seen', 4)], { now: T0 + 6 * MIN, ...STABLE_ONLY }))
              .becameReady,
            1,
          );
          return second;
        }),
    );

    test('completeMany: a group recorded as complete records each, in order; lost claims are null', () =>
      use(async (l) => {
        await makeReady(l, 's1', [
          file('/a.BUFR', 1),
          file('/b.BUFR', 2),
          file('/c.BUFR', 3),
          file('/d.BUFR', 4),
        ]);
        const now = T0 + 5 * MIN;
        const [a, b, c, d] = await l.claimReady('s1', 4, { now, leaseMs: 10_000, owner: 'test-a' });
        assert.ok(a && b && c && d);
        assert.deepEqual(await l.completeMany([], { now }), [], 'an empty group is allowed');
        // b's lease ends and another instance claims it: b's holder may no longer commit.
        await l.renewLease(a, { now: now + 9_000, leaseMs: 10_000 });
        await l.renewLease(c, { now: now + 9_000, leaseMs: 10_000 });
        await l.renewLease(d, { now: now + 9_000, leaseMs: 10_000 });
        assert.equal(await l.reclaimExpired({ now: now + 10_000 }), 1);
        const b2 = await claimOne(l, 's1', now + 11_000);
        assert.equal(b2.record.id, b.record.id);
        const at = now + 12_000;
        const results = await l.completeMany(
          [
            { claim: c, localPath: '/data/c.BUFR' },
            { claim: b, localPath: '/data/b-stale.BUFR' },
            { claim: a, localPath: '/data/a.BUFR' },
            { claim: a, localPath: '/data/a-twice.BUFR' },
          ],
          { now: at },
        );
        assert.deepEqual(
          results.map((r) => r?.remotePath ?? null),
          ['/c.BUFR', null, '/a.BUFR', null],
          'in input order; the stale claim and a second completion of one claim are null',
        );
        for (const r of results) {
          if (r === null) continue;
          assert.equal(r.state, 'downloaded');
          assert.equal(r.attempts, 1);
          assert.equal(r.downloadedAt, at);
          assert.equal(r.updatedAt, at);
          assert.deepEqual(await l.get(r.id), r, 'the returned row is the stored one');
        }
        assert.equal((await l.get(a.record.id))?.localPath, '/data/a.BUFR');
        // The row of the stale claim still belongs to its new holder, who can complete it.
        assert.equal((await l.get(b.record.id))?.state, 'downloading');
        const [b2done] = await l.completeMany([{ claim: b2, localPath: '/data/b.BUFR' }], { now: at });
        assert.equal(b2done?.localPath, '/data/b.BUFR');
        // Completed rows behave as complete() left them: pending callbacks, then processed.
        assert.deepEqual(
          (await l.pendingCallbacks('s1', 10)).map((r) => r.remotePath),
          ['/a.BUFR', '/b.BUFR', '/c.BUFR'],
        );
        assert.equal((await l.counts('s1')).downloading, 1, 'd was not in a group');
        await assert.rejects(l.complete(a, '/data/a', { now: at }), LeaseLostError, 'a token commits once');
      }));

    test(
      'completeMany is all or nothing: a write refused inside the group records none of it',
      { skip: options.refuseLocalPath === undefined ? 'this store cannot refuse a write' : false },
      () =>
        use(async (l) => {
          const refuse = options.refuseLocalPath as (ledger: Ledger, localPath: string) => Promise<void>;
          await makeReady(l, 's1', [file('/a.BUFR', 1), file('/b.BUFR', 2), file('/c.BUFR', 3)]);
          const now = T0 + 5 * MIN;
          const [a, b, c] = await l.claimReady('s1', 3, { now, ...LEASE });
          assert.ok(a && b && c);
          await refuse(l, '/data/refused.BUFR');
          // The refused write comes after one that succeeded: it must be rolled back too.
          await assert.rejects(
            l.completeMany(
              [
                { claim: a, localPath: '/data/a.BUFR' },
                { claim: b, localPath: '/data/refused.BUFR' },
                { claim: c, localPath: '/data/c.BUFR' },
              ],
              { now: now + 1000 },
            ),
            LedgerError,
          );
          for (const claim of [a, b, c]) {
            const row = await l.get(claim.record.id);
            assert.equal(row?.state, 'downloading', `${claim.record.remotePath} not recorded`);
            assert.equal(row?.localPath, null);
          }
          // The claims are intact: the same files commit in the next group.
          const results = await l.completeMany(
            [
              { claim: a, localPath: '/data/a.BUFR' },
              { claim: b, localPath: '/data/b.BUFR' },
              { claim: c, localPath: '/data/c.BUFR' },
            ],
            { now: now + 2000 },
          );
          assert.deepEqual(
            results.map((r) => r?.state),
            ['downloaded', 'downloaded', 'downloaded'],
          );
        }),
    );

    test('completeMany after close fails with LedgerError', () =>
      use(async (l) => {
        await makeReady(l, 's1', [file('/a.BUFR', 1)]);
        const claim = await claimOne(l, 's1', T0 + 5 * MIN);
        await l.close();
        await assert.rejects(
          l.completeMany([{ claim, localPath: '/data/a' }], { now: T0 + 6 * MIN }),
          LedgerError,
        );
      }));
  });
}
