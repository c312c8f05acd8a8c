/**
 * Group commit of downloads (src/daemon/completion-group.ts, `Ledger.completeMany`): files made
 * durable at one moment share one ledger transaction, nothing waits for a group to fill, a lost
 * claim or a failed transaction is reported to exactly the files it concerns; and in the daemon,
 * over a real FTP server, the transactions per file drop while every callback still runs once,
 * after its file is complete on disk and recorded.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { CompletionGroup } from '../../src/daemon/completion-group.js';
import { FTPDaemon } from '../../src/daemon/daemon.js';
import { LeaseLostError, LedgerError } from '../../src/errors.js';
import type { Claim, Completion, FileRecord, Ledger } from '../../src/ledger/ledger.js';
import { SqliteLedger } from '../../src/ledger/sqlite.js';
import { sha256File } from '../helpers/hash.js';
import { sleep } from '../helpers/wait.js';
import { payload, rig } from './helpers/setup.js';

const SOURCE = 'group-test';

/** A real SQLite ledger that counts its commits of downloads, optionally slow or failing once. */
interface CountingLedger {
  ledger: Ledger;
  /** Sizes of the groups given to completeMany, in order. */
  groups: number[];
  /** Calls of the single-file `complete`. */
  singles: number;
  /** When each completeMany started (ms since the epoch). */
  startedAt: number[];
  /** Make completeMany take this long (a commit across a link), or fail its next call. */
  delayMs: number;
  failNext: boolean;
  /** Checked at each commit: a file the ledger is about to record that is not complete on disk. */
  notOnDisk: string[];
}

function counting(inner: Ledger, sizes = new Map<string, number>()): CountingLedger {
  const c: CountingLedger = {
    ledger: inner,
    groups: [],
    singles: 0,
    startedAt: [],
    delayMs: 0,
    failNext: false,
    notOnDisk: [],
  };
  c.ledger = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'completeMany') {
        return async (completions: readonly Completion[], options: { now: number }) => {
          c.groups.push(completions.length);
          c.startedAt.push(Date.now());
          for (const { claim, localPath } of completions) {
            const expected = sizes.get(basename(claim.record.remotePath));
            const complete =
              existsSync(localPath) &&
              (expected === undefined || statSync(localPath).size === expected) &&
              !readdirSync(dirname(localPath)).some(
                (n) => n.endsWith('.part') && n.includes(basename(localPath)),
              );
            if (!complete) c.notOnDisk.push(localPath);
          }
          if (c.delayMs > 0) await sleep(c.delayMs);
          if (c.failNext) {
            c.failNext = false;
            throw new LedgerError('sqlite', 'completeMany: injected failure');
          }
          return target.completeMany(completions, options);
        };
      }
      if (prop === 'complete') {
        return (...args: Parameters<Ledger['complete']>) => {
          c.singles++;
          return target.complete(...args);
        };
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      // The store's methods use private fields: call them on the store itself.
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return c;
}

let dir: string;
let store: SqliteLedger;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'radarlib-group-'));
  store = SqliteLedger.open(join(dir, 'ledger.sqlite'));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function claims(n: number): Promise<Claim[]> {
  const now = Date.now();
  await store.observe(
    SOURCE,
    Array.from({ length: n }, (_, i) => ({
      remotePath: `/L2/f${i}.BUFR`,
      size: 10 + i,
      mtime: now - 3_600_000,
    })),
    { now, minAgeMs: 0 },
  );
  const got = await store.claimReady(SOURCE, n, { now, leaseMs: 60_000, owner: 'test' });
  assert.equal(got.length, n);
  return got;
}

test('completions of one moment share one transaction; each gets its own row', async () => {
  const c = counting(store);
  const group = new CompletionGroup(c.ledger, Date.now);
  const all = await claims(5);
  const records = await Promise.all(all.map((claim) => group.complete(claim, `/data/${claim.record.id}`)));
  assert.deepEqual(c.groups, [5]);
  assert.equal(c.singles, 0);
  assert.deepEqual(
    records.map((r) => [r.id, r.state, r.localPath]),
    all.map((claim) => [claim.record.id, 'downloaded', `/data/${claim.record.id}`]),
  );
});

test('nothing waits for a group to fill: a lone completion is written at once, later ones gather meanwhile', async () => {
  const c = counting(store);
  c.delayMs = 100;
  const group = new CompletionGroup(c.ledger, Date.now);
  const [first, ...rest] = await claims(4);
  assert.ok(first);
  const firstDone = group.complete(first, '/data/first');
  // The first transaction starts alone, at the end of this turn (no wait for company)...
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(c.groups, [1]);
  // ...and what is ready while it runs forms the next group, written as soon as it ends.
  const restDone = Promise.all(rest.map((claim) => group.complete(claim, `/data/${claim.record.id}`)));
  assert.equal((await firstDone).state, 'downloaded');
  assert.equal((await restDone).length, 3);
  assert.deepEqual(c.groups, [1, 3]);
});

test('a lost claim fails alone; a failed transaction fails its whole group, and the next group commits', async () => {
  const c = counting(store);
  const group = new CompletionGroup(c.ledger, Date.now);
  const [a, b, d, e] = await claims(4);
  assert.ok(a && b && d && e);
  // b's claim is spent (its attempt was recorded as failed): its holder may no longer commit.
  assert.equal(await store.fail(b, 'gone', { now: Date.now(), retryAt: Date.now() + 3_600_000 }), true);
  const [okA, lostB] = await Promise.allSettled([group.complete(a, '/data/a'), group.complete(b, '/data/b')]);
  assert.equal(okA.status, 'fulfilled');
  assert.equal(lostB.status, 'rejected');
  assert.ok(lostB.reason instanceof LeaseLostError);
  assert.equal(lostB.reason.remotePath, b.record.remotePath);

  c.failNext = true;
  const failed = await Promise.allSettled([group.complete(d, '/data/d'), group.complete(e, '/data/e')]);
  assert.deepEqual(
    failed.map((f) => f.status === 'rejected' && f.reason instanceof LedgerError),
    [true, true],
  );
  assert.equal((await store.get(d.record.id))?.state, 'downloading', 'nothing of the failed group recorded');
  const again = await Promise.all([group.complete(d, '/data/d'), group.complete(e, '/data/e')]);
  assert.deepEqual(
    again.map((r: FileRecord) => r.state),
    ['downloaded', 'downloaded'],
  );
  assert.deepEqual(c.groups, [2, 2, 2]);
});

test('the daemon commits downloads in groups: fewer transactions than files, every callback once, after its file is on disk', async (t) => {
  const r = await rig(t);
  const FILES = 16;
  const sizes = new Map<string, number>();
  for (let i = 0; i < FILES; i++) {
    const name = `RMA1_0315_01_DBZH_20251020T15${String(i).padStart(2, '0')}00Z.BUFR`;
    sizes.set(name, 40_000 + i);
    r.put(`/data/${name}`, payload(i, 40_000 + i));
  }
  const c = counting(store, sizes);
  // A commit that takes a while (PostgreSQL across a link, a busy disk): files finishing
  // meanwhile must join the next group instead of each paying a transaction.
  c.delayMs = 150;
  const seen: { name: string; stateAtCallback: string | undefined; at: number }[] = [];
  const d = new FTPDaemon(r.config({ maxConcurrentDownloads: 4 }), {
    ledger: c.ledger,
    onFileDownloaded: async (localPath, info) => {
      assert.equal(sha256File(localPath), sha256File(join(r.root, 'data', basename(localPath))));
      seen.push({
        name: basename(localPath),
        stateAtCallback: (await store.get(info.id))?.state,
        at: Date.now(),
      });
    },
  });
  t.after(() => d.stop());
  const got = await d.runOnce();
  assert.equal(got.length, FILES);
  assert.deepEqual(seen.map((s) => s.name).sort(), [...sizes.keys()].sort(), 'each callback once');
  assert.ok(
    seen.every((s) => s.stateAtCallback === 'downloaded'),
    'a callback starts only after its file is recorded',
  );
  assert.deepEqual(c.notOnDisk, [], 'the ledger records only files complete under their final name');
  assert.equal(c.singles, 0);
  assert.equal(
    c.groups.reduce((a, b) => a + b, 0),
    FILES,
  );
  assert.ok(
    c.groups.length <= FILES * 0.75,
    `${c.groups.length} transactions for ${FILES} files: ${c.groups.join(',')}`,
  );
  // Callbacks did not wait for the whole batch: the first ran before the last group was written.
  const firstCallback = Math.min(...seen.map((s) => s.at));
  assert.ok(
    firstCallback < (c.startedAt.at(-1) ?? 0),
    'the first callback ran while later groups were pending',
  );
  assert.equal((await store.counts()).processed, FILES);
});
