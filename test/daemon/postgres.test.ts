/**
 * Several daemon instances sharing one PostgreSQL ledger and one download folder: every file is
 * taken exactly once across them. Skipped, with the reason, when no server is reachable
 * (`.ci/start-postgres.sh`, or RADARLIB_TEST_PG_URL).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FTPDaemon } from '../../src/daemon/daemon.js';
import { openLedger } from '../../src/ledger/open.js';
import { dropSchema, freshSchemaName, postgresAvailable, redactPgUrl } from '../helpers/postgres.js';
import { sha256File as sha256 } from '../helpers/hash.js';
import { listLocal, payload, rig } from './helpers/setup.js';

test('two instances on one PostgreSQL ledger take every file once', { timeout: 60_000 }, async (t) => {
  const probe = await postgresAvailable();
  if (!probe.ok) {
    t.skip(
      `PostgreSQL not reachable at ${redactPgUrl(probe.url)}: ${probe.reason} (run .ci/start-postgres.sh)`,
    );
    return;
  }
  const schema = freshSchemaName();
  const url = `${probe.url}${probe.url.includes('?') ? '&' : '?'}schema=${schema}`;
  t.after(() => dropSchema(probe.url, schema));

  const r = await rig(t);
  const N = 30;
  // Whole-minute mtimes: what the server's LIST shows is then exactly the file's mtime.
  const mtime = new Date(Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000);
  const files = Array.from({ length: N }, (_, i) => ({
    remotePath: `/data/p${String(i).padStart(2, '0')}.BUFR`,
    size: 50_000 + i,
    mtime: mtime.getTime(),
  }));
  for (const [i, f] of files.entries()) r.put(f.remotePath, payload(i, f.size), mtime);
  const callbacks = new Map<string, number>();
  const make = (): FTPDaemon =>
    new FTPDaemon(r.config({ name: 'shared', ledger: url, maxConcurrentDownloads: 3 }), {
      onFileDownloaded: (_p, info) =>
        void callbacks.set(info.remotePath, (callbacks.get(info.remotePath) ?? 0) + 1),
    });
  const a = make();
  const b = make();
  t.after(() => Promise.all([a.stop(), b.stop()]));

  // Every file is already known and ready (as another instance's listing would leave them), so
  // both instances claim from their first cycle on.
  const ledger = await openLedger(url);
  t.after(() => ledger.close());
  const observed = await ledger.observe('shared', files, { now: Date.now(), minAgeMs: 0 });
  assert.equal(observed.added, N);

  const taken: string[] = [];
  const byInstance = [0, 0];
  for (let round = 0; round < 5 && taken.length < N; round++) {
    const [x, y] = await Promise.all([a.runOnce(), b.runOnce()]);
    taken.push(...x.map((rec) => rec.remotePath), ...y.map((rec) => rec.remotePath));
    byInstance[0]! += x.length;
    byInstance[1]! += y.length;
  }
  assert.equal(taken.length, N);
  assert.ok(byInstance[0]! > 0 && byInstance[1]! > 0, `both instances worked: ${byInstance.join(' + ')}`);
  assert.equal(new Set(taken).size, N, 'no file taken by both instances');
  assert.ok([...callbacks.values()].every((n) => n === 1));
  assert.equal(listLocal(r.local).length, N);
  for (const f of listLocal(r.local)) assert.equal(sha256(join(r.local, f)), sha256(join(r.root, 'data', f)));

  const counts = await ledger.counts('shared');
  assert.equal(counts.processed, N);
  assert.equal(counts.seen + counts.ready + counts.downloading + counts.failed, 0, 'no second version');
});
