/**
 * Three daemon processes, one PostgreSQL ledger, one shared download folder, one real FTP server
 * (vsftpd when installed, else the embedded server) with 300 radar files. Instance A and B start
 * together, C joins late, and A is SIGKILLed while it holds claims on half-written files.
 *
 * What must hold afterwards:
 *   - every file committed exactly once: one ledger row per file, `processed`; no row committed
 *     twice (the instances' `downloaded` events); the shared folder holds exactly the 300 files,
 *     each with the source's SHA-256, and no `.part` is left;
 *   - every callback ran at least once, on the complete file (each child logs its callbacks);
 *   - A's claims were finished by B or C within one lease period after A's leases ended.
 *
 * Skips, saying why, when PostgreSQL is unreachable (.ci/start-postgres.sh starts it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { makeRadarDataset } from '../helpers/dataset.js';
import {
  LedgerProbe,
  claimedBy,
  countStates,
  describeRun,
  instanceConfig,
  pickServerKind,
  readJsonLines,
  spawnInstance,
  startSourceServer,
  prepareRun,
  writeConfig,
  type Instance,
  type LedgerRow,
} from './harness.js';
import { sha256File } from '../helpers/hash.js';
import { scaled, waitUntil } from '../helpers/wait.js';
import type { CallbackRecord, InstanceEvent } from './instance.js';

const FILES = 300;
const LEASE_S = 4;
const POLL_S = 0.5;
const SLOTS = 4;
/** Per data connection: a file (70–400 kB) takes ≈ 0.3–1.6 s, so A dies mid-transfer. */
const RATE = 256 * 1024;
/** Whole test, children included (stretched on a loaded machine, test/helpers/wait.ts). */
const OVERALL_MS = scaled(150_000);
/** Budget for the run itself; the rest is set-up and teardown. */
const RUN_MS = scaled(110_000);

/** Every file under `dir`, relative, `/`-separated. */
function walk(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string, depth: number): void => {
    if (depth > 16) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) visit(p, depth + 1);
      else out.push(relative(dir, p).split('\\').join('/'));
    }
  };
  visit(dir, 0);
  return out.sort();
}

function committed(rows: readonly LedgerRow[]): number {
  const c = countStates(rows);
  return c.downloaded + c.processed;
}

test(
  'three instances on one PostgreSQL ledger mirror 300 files exactly once through a SIGKILL and a late join',
  { timeout: OVERALL_MS },
  async (t) => {
    const run = await prepareRun(t, 'radarlib-multi-');
    if (run === null) return;
    const { base, served, shared, out, schema, instances, held } = run;
    const { kind, note } = pickServerKind();
    if (note !== '') t.diagnostic(note);

    // 50 volumes × 6 moments, flat in /radar (one LIST per cycle).
    const dataset = await makeRadarDataset(join(served, 'radar'), {
      volumes: FILES / 6,
      layout: 'flat',
      sizeMin: 70_000,
      sizeMax: 400_000,
    });
    assert.equal(dataset.length, FILES);
    const source = new Map(dataset.map((f) => [`/radar/${f.relPath}`, f]));

    const server = await startSourceServer(kind, { root: served, rateLimit: RATE, readDelayMs: 400 });
    held.server = server;
    t.diagnostic(`FTP server: ${server.kind} on ${server.host}:${server.port}; ledger schema ${schema}`);
    const configPath = join(base, 'radarlib.json');
    writeConfig(
      configPath,
      instanceConfig({
        server,
        remotePath: '/radar',
        localDir: shared,
        ledgerUrl: run.ledgerUrl,
        leaseSeconds: LEASE_S,
        pollSeconds: POLL_S,
        slots: SLOTS,
      }),
    );
    const p = await LedgerProbe.connect(run.pgUrl, schema);
    held.probe = p;
    const deadline = Date.now() + RUN_MS;
    const start = (name: string): Instance => {
      const i = spawnInstance({ name, configPath, outDir: out });
      instances.push(i);
      return i;
    };
    const until = <T>(what: string, fn: () => Promise<T | undefined>): Promise<T> =>
      waitUntil(what, deadline, fn, { seen: () => describeRun(run) });

    // A and B start together (and migrate the fresh schema at the same time).
    const a = start('A');
    const b = start('B');
    await until('the first 30 files', async () => (committed(await p.rows()) >= 30 ? true : undefined));
    const c = start('C');
    t.diagnostic(`C joined at ${committed(await p.rows())} files committed`);

    // Kill A while it holds claims (downloads in flight) and most of the work is still ahead.
    await until('A to hold claims after 90 files', async () => {
      const rows = await p.rows();
      return committed(rows) >= 90 && claimedBy(rows, a.pid).length >= 2 ? true : undefined;
    });
    a.kill('SIGKILL');
    const killedAt = Date.now();
    assert.equal((await a.exited).signal, 'SIGKILL');
    const atKill = await p.rows();
    const orphaned = claimedBy(atKill, a.pid);
    const partsAtKill = walk(shared).filter((f) => f.endsWith('.part')).length;
    t.diagnostic(
      `A killed at ${committed(atKill)} files committed, holding ${orphaned.length} claims; ${partsAtKill} .part files in the shared folder`,
    );
    assert.ok(orphaned.length > 0, 'A held claims when it was killed');

    const final = await until(`all ${FILES} files processed`, async () => {
      const rows = await p.rows();
      return rows.length === FILES && countStates(rows).processed === FILES ? rows : undefined;
    });
    const stopped = await Promise.all([b.stop(15_000), c.stop(15_000)]);
    const runS = ((Date.now() - a.startedAt) / 1000).toFixed(1);

    const events = instances.flatMap((i) =>
      readJsonLines<InstanceEvent>(join(out, `${i.name}.events.jsonl`)),
    );
    const callbacks = instances.flatMap((i) =>
      readJsonLines<CallbackRecord>(join(out, `${i.name}.callbacks.jsonl`)),
    );
    const downloads = events.filter((e) => e.type === 'downloaded');
    const perInstance = instances.map(
      (i) => `${i.name} ${downloads.filter((e) => e.instance === i.name).length}`,
    );
    t.diagnostic(`run ${runS} s; downloads per instance: ${perInstance.join(', ')}`);

    await t.test('B and C stop gracefully on SIGTERM', () => {
      for (const s of stopped) assert.deepEqual(s, { code: 0, signal: null });
    });

    await t.test('every file committed exactly once: ledger and shared folder agree', () => {
      assert.equal(final.length, FILES, 'one ledger row per file');
      assert.deepEqual([...new Set(final.map((r) => r.remotePath))].sort(), [...source.keys()].sort());
      for (const r of final) {
        assert.equal(r.state, 'processed', r.remotePath);
        assert.equal(r.callbackError, null, r.remotePath);
        assert.equal(r.localPath, join(shared, r.remotePath.slice('/radar/'.length)), r.remotePath);
      }
      // Each row committed by one instance only: never two `downloaded` events for one row. A row
      // without an event was committed by A right before the kill (it died before logging).
      const byId = new Map<number, InstanceEvent[]>();
      for (const e of downloads) byId.set(e.id ?? -1, [...(byId.get(e.id ?? -1) ?? []), e]);
      for (const r of final) {
        const seen = byId.get(r.id) ?? [];
        assert.ok(seen.length <= 1, `${r.remotePath} committed ${seen.length} times`);
        if (seen.length === 0)
          assert.ok((r.downloadedAt ?? Infinity) <= killedAt, `${r.remotePath}: no commit`);
      }
      const files = walk(shared);
      assert.deepEqual(
        files.filter((f) => f.endsWith('.part')),
        [],
        'no .part left',
      );
      assert.deepEqual(files, dataset.map((f) => f.relPath).sort(), 'exactly the source files');
      for (const f of dataset) assert.equal(sha256File(join(shared, f.relPath)), f.sha256, f.relPath);
    });

    await t.test('every callback ran at least once, on the complete file', () => {
      const ran = new Set(callbacks.map((cb) => cb.remotePath));
      assert.deepEqual([...ran].sort(), [...source.keys()].sort());
      for (const cb of callbacks) assert.equal(cb.sha256, source.get(cb.remotePath)?.sha256, cb.remotePath);
      const extra = callbacks.length - ran.size;
      t.diagnostic(`${callbacks.length} callback runs for ${ran.size} files (${extra} repeated)`);
    });

    await t.test('the late joiner took part', () => {
      assert.ok(
        downloads.some((e) => e.instance === 'C'),
        'C downloaded files',
      );
    });

    await t.test(`A's claims were finished by B or C within one lease period (${LEASE_S} s)`, () => {
      const rowById = new Map(final.map((r) => [r.id, r]));
      const late: string[] = [];
      for (const o of orphaned) {
        const done = downloads.filter((e) => e.id === o.id);
        assert.equal(done.length, 1, `${o.remotePath} committed once`);
        assert.notEqual(done[0]?.instance, 'A', `${o.remotePath} finished by another instance`);
        const leaseEnd = o.leaseUntil ?? killedAt;
        const finishedAt = rowById.get(o.id)?.downloadedAt ?? Infinity;
        const afterEnd = finishedAt - leaseEnd;
        t.diagnostic(
          `${o.remotePath}: lease ended ${((leaseEnd - killedAt) / 1000).toFixed(1)} s after the kill, finished ${(afterEnd / 1000).toFixed(1)} s after that by ${done[0]?.instance}`,
        );
        if (afterEnd > LEASE_S * 1000) late.push(`${o.remotePath} (+${(afterEnd / 1000).toFixed(1)} s)`);
      }
      assert.deepEqual(
        late,
        [],
        'finished more than one lease period after the lease ended: the running instances only call ' +
          'reclaimExpired at the start of a cycle, and a cycle lasts until the ready backlog is drained',
      );
    });
  },
);
