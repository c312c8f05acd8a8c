/**
 * Crash loop: the daemon runs as a child process (`radarlib daemon`'s code path, through the
 * daemon tests' own child fixture) and is SIGKILLed at random moments while it mirrors a folder,
 * then restarted, again and again. Afterwards: every file once in the ledger, downloaded (committed)
 * exactly once, identical to the source; no partial file under a final name at any kill; callbacks
 * at least once (a kill between a callback and its ledger record repeats it, by design).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { openLedger } from '../../src/ledger/open.js';
import { makeRadarDataset } from '../helpers/dataset.js';
import { startDebianServer } from '../helpers/debian-servers.js';
import { startEmbeddedFtp } from '../helpers/embedded-ftp.js';
import { countEvents } from '../helpers/event-log.js';
import { sha256File } from '../helpers/hash.js';
import { sleep } from '../helpers/wait.js';
import { count, memorySampler, recordRow, serverKinds, walkFiles } from './helpers.js';
import { startTsxChild, type TsxChild } from '../helpers/child-process.js';

const CHILD = fileURLToPath(new URL('../daemon/fixtures/daemon-child.ts', import.meta.url));
const KILLS = count(5, 20);
const VOLUMES = count(7, 34); // × 6 fields: 42 / 204 files
/** A child that does not reach its kill point in this long is killed anyway. */
const ROUND_LIMIT_MS = 30_000;

const startChild = (env: Record<string, string>): TsxChild => startTsxChild(CHILD, env, 50_000);

const total = (m: ReadonlyMap<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

test(`crash loop: ${KILLS} SIGKILLs at random moments while mirroring`, { timeout: 600_000 }, async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'radarlib-rel-crash-'));
  const root = join(base, 'srv');
  const local = join(base, 'local');
  mkdirSync(root);
  mkdirSync(local);
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const files = await makeRadarDataset(root, {
    volumes: VOLUMES,
    layout: 'flat',
    sizeMin: 30_000,
    sizeMax: 400_000,
    seed: 31,
  });
  const sums = new Map(files.map((f) => [f.relPath, f.sha256]));

  // A real server when one is installed (it outlives every child), else the embedded one.
  const kind = serverKinds().kinds[0];
  let host: string;
  let port: number;
  let user: string;
  let password: string;
  if (kind !== undefined) {
    const s = await startDebianServer(kind, { root, passivePorts: 300 });
    t.after(() => s.stop());
    ({ host, port, user, password } = s);
  } else {
    const s = await startEmbeddedFtp({ root });
    t.after(() => s.stop());
    ({ host, port, user, password } = s);
  }
  const config = join(base, 'radarlib.yaml');
  writeFileSync(
    config,
    YAML.stringify({
      host,
      port,
      username: user,
      remotePath: '/',
      localDir: local,
      minAge: 0,
      pollInterval: 0.05,
      maxConcurrentDownloads: 4,
      backoff: { initialDelay: 0.01, maxDelay: 0.05 },
      timeouts: { connect: 5, command: 5, dataStall: 5 },
    }),
  );
  const eventsFile = join(base, 'events.log');
  const env = {
    CHILD_CONFIG: config,
    CHILD_EVENTS: eventsFile,
    RADARLIB_PASSWORD: password,
    // A little slowness per received chunk, so that kills often land mid-transfer.
    CHILD_THROTTLE: '2',
  };

  const mem = memorySampler();
  let seed = 0x5eed;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const logs: string[] = [];
  let partsAtKill = 0;
  let killsMidDownload = 0;
  let partialFinal = 0;
  let longestRoundMs = 0;
  const perRound = Math.max(1, Math.floor(files.length / (KILLS + 2)));
  for (let k = 0; k < KILLS; k++) {
    const before = total(countEvents(eventsFile).dl);
    // Kill once 0..2×perRound more files are committed, plus 0-40 ms: a random moment of the
    // mirroring (listing, transfer, rename, ledger commit or callback).
    const target = before + Math.floor(rand() * 2 * perRound);
    const child = startChild(env);
    const started = Date.now();
    let exited = false;
    void child.exit.then(() => (exited = true));
    while (!exited && Date.now() - started < ROUND_LIMIT_MS && total(countEvents(eventsFile).dl) < target)
      await sleep(5);
    await sleep(Math.floor(rand() * 40));
    child.proc.kill('SIGKILL');
    const died = await child.exit;
    logs.push(child.stderr());
    longestRoundMs = Math.max(longestRoundMs, Date.now() - started);
    assert.equal(died.signal, 'SIGKILL', `child ${k} ended by itself: ${child.stderr().slice(-2000)}`);
    // At every kill: no final file is partial.
    const present = walkFiles(local);
    const parts = present.filter((f) => f.endsWith('.part')).length;
    partsAtKill += parts;
    if (parts > 0) killsMidDownload++;
    for (const f of present) {
      if (f.endsWith('.part')) continue;
      if (sums.get(f) !== sha256File(join(local, f))) partialFinal++;
    }
  }

  // The last run, left to finish: a few cycles, then a graceful exit.
  const last = startChild({ ...env, CHILD_THROTTLE: '0', CHILD_MAX_ITERATIONS: '3' });
  let limit: NodeJS.Timeout | undefined;
  const ended = await Promise.race([
    last.exit,
    new Promise<null>((resolve) => (limit = setTimeout(() => resolve(null), 120_000))),
  ]);
  clearTimeout(limit);
  if (ended === null) last.proc.kill('SIGKILL');
  assert.equal(ended?.code, 0, last.stderr().slice(-3000));

  logs.push(last.stderr());
  const leaked = logs.filter((l) => l.includes(password)).length;
  const { dl, cb } = countEvents(eventsFile);
  const ledger = await openLedger(join(local, '.radarlib', 'ledger.sqlite'));
  const rows = await ledger.recent({ limit: 100_000 });
  const counts = await ledger.counts();
  await ledger.close();
  const rowsPerPath = new Map<string, number>();
  for (const row of rows) rowsPerPath.set(row.remotePath, (rowsPerPath.get(row.remotePath) ?? 0) + 1);
  const present = walkFiles(local);
  const lost = files.filter((f) => !present.includes(f.relPath)).length;
  const corrupt = files.filter(
    (f) => present.includes(f.relPath) && sha256File(join(local, f.relPath)) !== f.sha256,
  ).length;
  const dlDup = [...dl.values()].filter((n) => n > 1).length;
  const ledgerDup = [...rowsPerPath.values()].filter((n) => n > 1).length;
  const cbDup = [...cb.values()].filter((n) => n > 1).length;
  const leftoverParts = present.filter((f) => f.endsWith('.part')).length;
  recordRow({
    id: 'crash-loop',
    scenario: 'Daemon crash loop (child process, SIGKILL, restart)',
    injected: `${KILLS} SIGKILLs at random moments (after 0-${2 * perRound} more commits + 0-40 ms) while mirroring ${files.length} files`,
    cases: files.length,
    lost,
    duplicated: Math.max(dlDup, ledgerDup),
    corrupt,
    maxRssMb: mem.stop(),
    longestHangMs: longestRoundMs,
    observed: `${killsMidDownload}/${KILLS} kills left a .part (mid-transfer); ${partialFinal} partial files under final names at the kills; ledger rows ${rows.length} (processed ${counts.processed}); commits ${total(dl)} (duplicates ${dlDup}); callbacks ${total(cb)}, ${cbDup} repeated after a kill (at-least-once); ${leftoverParts} .part left; password in ${leaked} of ${logs.length} child logs; server ${kind ?? 'embedded'}`,
  });
  assert.equal(partialFinal, 0, 'no partial file under a final name at any kill');
  assert.equal(lost, 0);
  assert.equal(corrupt, 0);
  assert.equal(rows.length, files.length, 'one ledger row per file');
  assert.equal(ledgerDup, 0);
  assert.equal(counts.processed, files.length);
  // (a kill between the ledger commit and the event line can drop one DL line: the ledger counts)
  assert.ok(dl.size >= files.length - KILLS, 'commits seen');
  assert.equal(dlDup, 0, 'each file committed once');
  assert.equal(cb.size, files.length, 'every callback ran');
  assert.ok(cbDup <= KILLS * 2, `callbacks repeated only around kills (${cbDup})`);
  assert.equal(leftoverParts, 0);
  assert.equal(leaked, 0, 'the password (given as RADARLIB_PASSWORD) is in no child log');
  assert.ok(partsAtKill >= 0);
});
