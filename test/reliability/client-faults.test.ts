/**
 * AsyncFTPClient under injected faults, against real servers through the fault proxy:
 * `downloadFiles` in rounds (failures retried, permanent ones parked) must end with every file
 * complete and identical (SHA-256), each completed exactly once, nothing else in the folder.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { AsyncFTPClient } from '../../src/ftp/client.js';
import { FtpReplyError } from '../../src/errors.js';
import type { RemoteEntry } from '../../src/ftp/types.js';
import { startDebianServer, type DebianServerKind } from '../helpers/debian-servers.js';
import type { FaultRules } from '../helpers/fault-proxy.js';
import type { DatasetFile } from '../helpers/dataset.js';
import {
  checkMirror,
  count,
  describeCounts,
  downloadWithRetries,
  memorySampler,
  recordRow,
  serverKinds,
  startFaultRig,
  type FaultRig,
  type RetryOutcome,
} from './helpers.js';
import { sleep } from '../helpers/wait.js';

const { kinds, skipped } = serverKinds();
const VOLUMES = count(10, 50); // × 6 fields = 60 / 300 files per scenario and server
const TIMEOUTS = { connectMs: 3000, commandMs: 3000, dataStallMs: 1000 };

interface Rig extends FaultRig {
  client: AsyncFTPClient;
}

async function rig(t: TestContext, kind: DebianServerKind, rules: FaultRules, seed: number): Promise<Rig> {
  const faulty = await startFaultRig(t, kind, rules, {
    seed,
    volumes: VOLUMES,
    prefix: 'radarlib-rel-client-',
  });
  const client = new AsyncFTPClient({
    host: faulty.proxy.host,
    port: faulty.proxy.port,
    username: faulty.server.user,
    password: faulty.server.password,
    maxConnections: 4,
    timeouts: TIMEOUTS,
  });
  t.after(() => client.destroy());
  return { ...faulty, client };
}

/** The listing, retried: listings go through the proxy too (busy greetings, stalled replies). */
async function listAll(client: AsyncFTPClient): Promise<RemoteEntry[]> {
  let last: unknown;
  for (let i = 0; i < 10; i++) {
    try {
      return await client.listEntries('/', { pattern: '*.BUFR' });
    } catch (err) {
      last = err;
      await sleep(100);
    }
  }
  throw last;
}

function expectedOf(
  files: readonly DatasetFile[],
  skip: ReadonlySet<string> = new Set(),
): Map<string, string> {
  return new Map(files.filter((f) => !skip.has(`/${f.relPath}`)).map((f) => [f.relPath, f.sha256]));
}

function summarize(out: RetryOutcome): string {
  const retried = [...out.attempts.values()].filter((n) => n > 0).length;
  return `${out.rounds} rounds; ${retried} files retried; errors: ${describeCounts(out.errorCodes)}; parked ${out.parked.size}`;
}

if (kinds.length === 0) {
  test('client faults: real FTP servers', (t) => t.skip(skipped.join('; ')));
}

for (const kind of kinds) {
  test(
    `client · ${kind}: resets 1 in 10 (data and control), stalls and delays`,
    { timeout: 180_000 },
    async (t) => {
      const rules: FaultRules = { resetRate: 0.1, resetTarget: 'either', stallRate: 0.03, delayMs: 1 };
      const r = await rig(t, kind, rules, 11);
      const mem = memorySampler();
      const entries = await listAll(r.client);
      assert.equal(entries.length, r.files.length);
      const out = await downloadWithRetries(r.client, entries, r.local, { maxAttempts: 10, maxRounds: 15 });
      const check = checkMirror(r.local, expectedOf(r.files), { completions: out.completions });
      const s = r.proxy.stats;
      recordRow({
        id: `client-${kind}-resets`,
        scenario: `Client (${kind}): connection resets mid-transfer, stalls`,
        injected: `RST 1 in 10 transfers (data or control, after 1-16 KiB), stall 3 in 100, 1 ms delay per chunk; dataStall ${TIMEOUTS.dataStallMs} ms`,
        cases: r.files.length,
        lost: check.lost.length,
        duplicated: check.duplicated.length,
        corrupt: check.corrupt.length,
        maxRssMb: mem.stop(),
        longestHangMs: out.longestRoundMs,
        observed: `injected: ${s.resetsData} data RST, ${s.resetsControl} control RST, ${s.stallsData} stalls; ${summarize(out)}; stray files ${check.stray.length}`,
      });
      assert.deepEqual(check, { lost: [], corrupt: [], duplicated: [], stray: [] });
      assert.equal(out.parked.size, 0, [...out.parked].map(([p, e]) => `${p}: ${e.message}`).join('\n'));
      assert.ok(s.resetsData + s.resetsControl > 0, 'the proxy injected resets');
    },
  );

  test(
    `client · ${kind}: 421 at login, 450/451 then success, 550 parked`,
    { timeout: 180_000 },
    async (t) => {
      const permanent = new Set<string>();
      const rules: FaultRules = {
        // The 2nd and 3rd connection, then every 5th: the pool must lower its cap and go on.
        loginBusy: (n) => n === 2 || n === 3 || n % 5 === 0,
        retrReply: (path, attempt) => {
          const i = Number(/_(\d{8}T\d{6})Z/.exec(path)?.[1]?.slice(-2) ?? '0') + path.length;
          if (permanent.has(path)) return 550;
          if (i % 5 === 1 && attempt === 1) return 450;
          if (i % 5 === 2 && attempt <= 2) return 451;
          return null;
        },
      };
      const r = await rig(t, kind, rules, 12);
      for (const f of r.files.filter((_, i) => i % 13 === 5)) permanent.add(`/${f.relPath}`);
      const mem = memorySampler();
      const entries = await listAll(r.client);
      const out = await downloadWithRetries(r.client, entries, r.local, { maxAttempts: 5, maxRounds: 10 });
      const check = checkMirror(r.local, expectedOf(r.files, permanent), { completions: out.completions });
      const parkedRight = [...out.parked].filter(
        ([p, e]) =>
          permanent.has(p) && e instanceof FtpReplyError && e.replyCode === 550 && e.remotePath === p,
      ).length;
      const s = r.proxy.stats;
      recordRow({
        id: `client-${kind}-replies`,
        scenario: `Client (${kind}): 421 at login, 450/451/550 replies`,
        injected: `421 greeting on connections 2, 3 and every 5th; 450 once / 451 twice on 2 in 5 files; 550 always on ${permanent.size} files`,
        cases: r.files.length,
        lost: check.lost.length,
        duplicated: check.duplicated.length,
        corrupt: check.corrupt.length,
        maxRssMb: mem.stop(),
        longestHangMs: out.longestRoundMs,
        observed: `injected: ${s.busy421} × 421, replies ${describeCounts(s.injectedReplies)}; ${summarize(out)} (${parkedRight}/${permanent.size} parked with their 550); stray files ${check.stray.length}`,
      });
      assert.deepEqual(check, { lost: [], corrupt: [], duplicated: [], stray: [] });
      assert.equal(out.parked.size, permanent.size, [...out.parked.keys()].join(', '));
      assert.equal(parkedRight, permanent.size, 'each 550 file parked with its 550 error naming it');
      assert.ok(s.busy421 > 0 && (s.injectedReplies[450] ?? 0) > 0 && (s.injectedReplies[451] ?? 0) > 0);
    },
  );

  test(`client · ${kind}: the server restarts during a batch`, { timeout: 180_000 }, async (t) => {
    const r = await rig(t, kind, { delayMs: 2 }, 13);
    const mem = memorySampler();
    const entries = await listAll(r.client);
    let server = r.server;
    let restarts = 0;
    const restart = async (): Promise<void> => {
      r.proxy.setRules({ refuse: true });
      r.proxy.resetAll();
      await server.stop();
      await sleep(200);
      server = await startDebianServer(kind, {
        root: r.root,
        passivePorts: 300,
        password: r.server.password,
      });
      r.proxy.setUpstream(server.port);
      r.proxy.setRules({ refuse: false });
      restarts++;
    };
    t.after(() => server.stop());
    let done = 0;
    const restartAt = new Set([Math.floor(entries.length / 4), Math.floor(entries.length / 2)]);
    let restarting: Promise<void> = Promise.resolve();
    const completions = new Map<string, number>();
    let longest = 0;
    let pending = entries;
    const parked = new Map<string, Error>();
    const attempts = new Map<string, number>();
    const errors = new Map<string, string[]>();
    for (let round = 0; round < 10 && pending.length > 0; round++) {
      await restarting;
      const started = Date.now();
      const batch = await r.client.downloadFiles(pending, r.local, {
        maxConcurrent: 4,
        onFileDone: ({ remotePath, error }) => {
          if (error !== undefined) return;
          completions.set(remotePath, (completions.get(remotePath) ?? 0) + 1);
          if (restartAt.has(++done)) restarting = restarting.then(restart);
        },
      });
      longest = Math.max(longest, Date.now() - started);
      const failed = new Set<string>();
      for (const f of batch.failures) {
        errors.set(f.remotePath, [...(errors.get(f.remotePath) ?? []), `round ${round}: ${f.error.message}`]);
        const n = (attempts.get(f.remotePath) ?? 0) + 1;
        attempts.set(f.remotePath, n);
        if (n >= 8) parked.set(f.remotePath, f.error);
        else failed.add(f.remotePath);
      }
      pending = pending.filter((e) => failed.has(e.path));
      await sleep(200);
    }
    await restarting;
    const check = checkMirror(r.local, expectedOf(r.files), { completions });
    recordRow({
      id: `client-${kind}-restart`,
      scenario: `Client (${kind}): server restarts during a batch`,
      injected: `server killed and started again twice mid-batch (connections reset, refused while down)`,
      cases: r.files.length,
      lost: check.lost.length,
      duplicated: check.duplicated.length,
      corrupt: check.corrupt.length,
      maxRssMb: mem.stop(),
      longestHangMs: longest,
      observed: `${restarts} restarts; ${attempts.size} files retried; parked ${parked.size}; stray files ${check.stray.length}`,
    });
    // On failure, say how each parked file failed each time (a CI run must explain itself).
    const why = [...parked.keys()].map((path) => `${path}: ${(errors.get(path) ?? []).join(' | ')}`);
    assert.equal(restarts, 2);
    assert.deepEqual(check, { lost: [], corrupt: [], duplicated: [], stray: [] }, why.join('\n'));
    assert.equal(parked.size, 0, why.join('\n'));
  });
}
