/**
 * An instance that is not dead but *paused* longer than its lease (a frozen VM, a long GC, a
 * network cut to the database) must not commit what another instance has taken over, nor fire
 * its callback. A is SIGSTOPped mid-transfer, B reclaims A's rows and finishes them, then A
 * is SIGCONTed and carries on. Issue 8: "a lost lease never commits or fires the callback".
 *
 * Skips, saying why, when PostgreSQL is unreachable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeRadarDataset } from '../helpers/dataset.js';
import {
  LedgerProbe,
  claimedBy,
  countStates,
  describeRun,
  instanceConfig,
  isPartOf,
  partFiles,
  pickServerKind,
  readJsonLines,
  spawnInstance,
  startSourceServer,
  prepareRun,
  writeConfig,
  type LedgerRow,
} from './harness.js';
import { scaled, waitUntil } from '../helpers/wait.js';
import type { CallbackRecord, InstanceEvent } from './instance.js';

const FILES = 24;
const LEASE_S = 2;

test(
  'an instance paused past its lease neither commits nor fires callbacks for rows taken over',
  { timeout: scaled(120_000) },
  async (t) => {
    const run = await prepareRun(t, 'radarlib-multi-pause-');
    if (run === null) return;
    const { base, served, shared, out, schema, instances, held } = run;
    const { kind, note } = pickServerKind();
    if (note !== '') t.diagnostic(note);

    const dataset = await makeRadarDataset(join(served, 'radar'), {
      volumes: FILES / 6,
      layout: 'flat',
      sizeMin: 300_000,
      sizeMax: 400_000,
    });
    // ≈ 1.5 s per file: A is paused mid-transfer.
    const server = await startSourceServer(kind, { root: served, rateLimit: 256 * 1024, readDelayMs: 1500 });
    held.server = server;
    const configPath = join(base, 'radarlib.json');
    writeConfig(
      configPath,
      instanceConfig({
        server,
        remotePath: '/radar',
        localDir: shared,
        ledgerUrl: run.ledgerUrl,
        leaseSeconds: LEASE_S,
        pollSeconds: 0.3,
        slots: 2,
      }),
    );
    const p = await LedgerProbe.connect(run.pgUrl, schema);
    held.probe = p;
    const deadline = Date.now() + scaled(90_000);
    const seen = { seen: () => describeRun(run) };

    const a = spawnInstance({ name: 'A', configPath, outDir: out });
    instances.push(a);
    // A alone until it is transferring, then frozen. Mid-transfer: A holds the row's claim and
    // its `.part` is open. Not "the .part has bytes": received bytes reach the file in 512 KiB
    // blocks (src/ftp/file-sink.ts), so a 300-400 kB file's .part stays empty until the moment
    // before its rename, a window a fast machine (fast fdatasync) closes before any poll sees it.
    const transferring = async (): Promise<LedgerRow[] | undefined> => {
      const rows = claimedBy(await p.rows(), a.pid);
      const parts = partFiles(shared);
      return rows.some((r) => parts.some((f) => isPartOf(f.path, r.remotePath))) ? rows : undefined;
    };
    // Seen, then frozen, then seen again: A may have finished a transfer between the look and
    // SIGSTOP; the rows it holds *while paused* are the ones it must not commit.
    const frozen = await waitUntil(
      'A to be mid-transfer (a claimed row with its .part open) when paused',
      deadline,
      async () => {
        if ((await transferring()) === undefined) return undefined;
        a.kill('SIGSTOP');
        const held = await transferring();
        if (held === undefined) a.kill('SIGCONT');
        return held;
      },
      seen,
    );
    t.diagnostic(
      `A paused holding ${frozen.length} claims; .part files: ${partFiles(shared)
        .map((f) => `${f.path} (${f.size} B)`)
        .join(', ')}`,
    );
    const b = spawnInstance({ name: 'B', configPath, outDir: out });
    instances.push(b);

    // B takes A's rows over once their lease ends, and finishes them.
    const frozenIds = new Set(frozen.map((r) => r.id));
    await waitUntil(
      "B to finish A's rows",
      deadline,
      async () => {
        const rows = await p.rows();
        return rows.filter((r) => frozenIds.has(r.id) && r.state === 'processed').length === frozenIds.size
          ? true
          : undefined;
      },
      seen,
    );
    a.kill('SIGCONT');
    // A wakes up with transfers of rows it no longer owns; give it a few lease periods.
    await sleep(scaled(3 * LEASE_S * 1000));
    await waitUntil(
      `all ${FILES} files processed`,
      deadline,
      async () => {
        const rows = await p.rows();
        return rows.length === FILES && countStates(rows).processed === FILES ? true : undefined;
      },
      seen,
    );
    const stopped = await Promise.all(instances.map((i) => i.stop(15_000)));
    assert.deepEqual(stopped, [
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);

    const events = instances.flatMap((i) =>
      readJsonLines<InstanceEvent>(join(out, `${i.name}.events.jsonl`)),
    );
    const callbacks = instances.flatMap((i) =>
      readJsonLines<CallbackRecord>(join(out, `${i.name}.callbacks.jsonl`)),
    );
    for (const id of frozenIds) {
      const commits = events.filter((e) => e.type === 'downloaded' && e.id === id);
      assert.deepEqual(
        commits.map((e) => e.instance),
        ['B'],
        `row ${id}: committed by B only`,
      );
      assert.deepEqual(
        callbacks.filter((c) => c.id === id).map((c) => c.instance),
        ['B'],
        `row ${id}: callback by B only`,
      );
    }
    const files = readdirSync(shared).sort();
    assert.deepEqual(
      files.filter((f) => f.endsWith('.part')),
      [],
      'no .part left behind by the paused instance',
    );
    assert.deepEqual(files, dataset.map((f) => f.relPath).sort());
    for (const f of dataset) {
      const sha = createHash('sha256')
        .update(readFileSync(join(shared, f.relPath)))
        .digest('hex');
      assert.equal(sha, f.sha256, f.relPath);
    }
    const lost = readFileSync(join(out, 'A.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('lease lost')).length;
    t.diagnostic(`A logged ${lost} lost lease(s) after it woke up`);
  },
);
