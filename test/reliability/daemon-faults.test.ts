/**
 * FTPDaemon under injected faults: `runOnce` cycles through the fault proxy until every file is
 * processed or parked. Every file must be downloaded and handed to the callback exactly once,
 * identical to the source; permanently refused ones end `failed` with their error.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { FTPDaemon } from '../../src/daemon/daemon.js';
import type { FTPDaemonConfig } from '../../src/daemon/config.js';
import type { FailedEvent } from '../../src/daemon/events.js';
import { startDebianServer, type DebianServerKind } from '../helpers/debian-servers.js';
import type { FaultRules } from '../helpers/fault-proxy.js';
import {
  checkMirror,
  count,
  describeCounts,
  memorySampler,
  recordRow,
  serverKinds,
  startFaultRig,
  type FaultRig,
} from './helpers.js';
import { scaled, sleep } from '../helpers/wait.js';
import { textSink, type TextSink } from '../helpers/text-sink.js';
import { pino } from 'pino';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FileRecord } from '../../src/ledger/ledger.js';

const { kinds, skipped } = serverKinds();
const VOLUMES = count(10, 50); // × 6 fields
const MAX_CYCLES = 80;
/** The cycles of one scenario end within this (a hung cycle is stopped and reported). */
const RUN_DEADLINE_MS = scaled(200_000);
const MAX_ATTEMPTS = 6;

interface Rig extends FaultRig {
  config: FTPDaemonConfig;
}

async function rig(t: TestContext, kind: DebianServerKind, rules: FaultRules, seed: number): Promise<Rig> {
  const faulty = await startFaultRig(t, kind, rules, {
    seed,
    volumes: VOLUMES,
    prefix: 'radarlib-rel-daemon-',
  });
  const config: FTPDaemonConfig = {
    host: faulty.proxy.host,
    port: faulty.proxy.port,
    username: faulty.server.user,
    password: faulty.server.password,
    remotePath: '/',
    localDir: faulty.local,
    minAge: 0,
    pollInterval: 0.05,
    maxConcurrentDownloads: 4,
    maxConnections: 4,
    maxAttempts: MAX_ATTEMPTS,
    backoff: { initialDelay: 0.05, maxDelay: 0.2, jitter: 0.2 },
    timeouts: { connect: 3, command: 3, dataStall: 1 },
    stopTimeout: 2,
  };
  return { ...faulty, config };
}

interface DaemonRun {
  downloads: Map<string, number>;
  callbacks: Map<string, number>;
  cycles: number;
  longestCycleMs: number;
  retries: number;
  failed: Map<string, string>;
  /** Each failed attempt per file (`#n error`), for the message of a failing assertion. */
  attemptErrors: Map<string, string[]>;
  processed: number;
  maxRssMb: number;
  /** Rows not processed when the run ended (for the message of a failing assertion). */
  unsettled: FileRecord[];
  /** Set when a cycle was still running at RUN_DEADLINE_MS and the daemon was stopped. */
  hung: string | null;
}

/** runOnce until nothing is left to do (bounded), counting downloads and callbacks per file. */
async function runUntilSettled(
  d: FTPDaemon,
  total: number,
  between?: (cycle: number) => Promise<void>,
): Promise<DaemonRun> {
  const mem = memorySampler();
  const run: DaemonRun = {
    downloads: new Map(),
    callbacks: new Map(),
    cycles: 0,
    longestCycleMs: 0,
    retries: 0,
    failed: new Map(),
    attemptErrors: new Map(),
    processed: 0,
    maxRssMb: 0,
    unsettled: [],
    hung: null,
  };
  d.on('downloaded', (e) =>
    run.downloads.set(e.record.remotePath, (run.downloads.get(e.record.remotePath) ?? 0) + 1),
  );
  d.on('retry', () => run.retries++);
  const noteAttempt = (e: FailedEvent): void => {
    const seen = run.attemptErrors.get(e.remotePath) ?? [];
    seen.push(`#${e.attempts} ${e.error.message}`);
    run.attemptErrors.set(e.remotePath, seen);
  };
  d.on('retry', noteAttempt);
  d.on('failed', noteAttempt);
  const runStarted = Date.now();
  try {
    for (let cycle = 0; cycle < MAX_CYCLES; cycle++) {
      run.cycles++;
      const started = Date.now();
      // A cycle that hangs is reported with the ledger as it stands (the daemon is stopped after).
      const pass = d.runOnce().then(() => 'done' as const);
      const timer = new AbortController();
      const left = Math.max(1, runStarted + RUN_DEADLINE_MS - started);
      const hung = sleep(left, 'hung' as const, { signal: timer.signal }).catch(() => 'done' as const);
      const ended = await Promise.race([pass, hung]);
      timer.abort();
      if (ended === 'hung') {
        pass.catch(() => undefined);
        run.hung = `cycle ${run.cycles} still running ${RUN_DEADLINE_MS} ms after the start`;
        break;
      }
      run.longestCycleMs = Math.max(run.longestCycleMs, Date.now() - started);
      const c = await d.ledger!.counts();
      if (c.processed + c.failed === total && c.seen + c.ready + c.downloading + c.downloaded === 0) break;
      await between?.(cycle);
      await sleep(60);
    }
    for (const row of await d.ledger!.recent({ states: ['failed'], limit: 10_000 }))
      run.failed.set(row.remotePath, row.lastError ?? '');
    run.processed = (await d.ledger!.counts()).processed;
    run.unsettled = await d.ledger!.recent({
      states: ['seen', 'ready', 'downloading', 'downloaded', 'failed'],
      limit: 10_000,
    });
  } finally {
    run.maxRssMb = mem.stop();
    await d.stop();
  }
  return run;
}

function daemonFor(r: Rig, run: { callbacks: Map<string, number> }, log?: TextSink): FTPDaemon {
  return new FTPDaemon(r.config, {
    onFileDownloaded: (_local, info) => {
      run.callbacks.set(info.remotePath, (run.callbacks.get(info.remotePath) ?? 0) + 1);
    },
    ...(log === undefined ? {} : { logger: pino({ level: 'debug' }, log.stream) }),
  });
}

/** A pino JSON line as `-1.2 s <msg>: <error> {attempts}`, short enough to read in a CI log. */
function logLine(line: string, now: number): string {
  try {
    const rec = JSON.parse(line) as {
      time?: number;
      msg?: string;
      err?: { message?: string };
      attempts?: number;
    };
    const at = rec.time === undefined ? '' : `${((rec.time - now) / 1000).toFixed(1)} s `;
    const attempts = rec.attempts === undefined ? '' : ` (attempt ${rec.attempts})`;
    return `${at}${rec.msg ?? ''}${rec.err?.message === undefined ? '' : `: ${rec.err.message}`}${attempts}`;
  } catch {
    return line.slice(0, 300);
  }
}

/**
 * What happened to each file the mirror check found lost, or with a `.part` left: its ledger row
 * (state, attempts, last error, next attempt), every failed attempt, its `.part` files with their
 * sizes, and the daemon's log lines that name it. So a failure on CI explains itself.
 */
function explain(
  r: Rig,
  run: DaemonRun,
  check: { lost: string[]; stray: string[] },
  log: TextSink,
  now = Date.now(),
): string {
  const names = new Set(check.lost);
  for (const stray of check.stray) {
    const file = r.files.find((f) => stray.includes(f.relPath.split('/').at(-1) ?? '\0'));
    if (file !== undefined) names.add(file.relPath);
  }
  const ago = (t: number | null): string => (t === null ? '-' : `${((t - now) / 1000).toFixed(1)} s`);
  const states = new Map<string, number>();
  for (const row of run.unsettled) states.set(row.state, (states.get(row.state) ?? 0) + 1);
  const out = [
    `${run.cycles} of ${MAX_CYCLES} cycles, ${run.retries} retries, ${run.processed} processed; not processed: ${describeCounts(states)}`,
  ];
  if (run.hung !== null) out.push(run.hung);
  for (const row of run.unsettled.filter((x) => x.state === 'downloading').slice(0, 12))
    out.push(`downloading: ${row.remotePath}, ${row.attempts} attempts, last error ${row.lastError ?? '-'}`);
  if (names.size > 10) out.push(`(the first 10 of ${names.size} files)`);
  for (const rel of [...names].slice(0, 10)) {
    const base = rel.split('/').at(-1) ?? rel;
    const file = r.files.find((f) => f.relPath === rel);
    const row = run.unsettled.find((x) => x.remotePath === `/${rel}`);
    out.push(`${rel} (${file?.size ?? '?'} B):`);
    out.push(
      row === undefined
        ? '  ledger: no unsettled row (processed?)'
        : `  ledger: ${row.state}, ${row.attempts} attempts, next ${ago(row.nextAttemptAt)}, updated ${ago(row.updatedAt)}, last error ${row.lastError ?? '-'}`,
    );
    for (const e of run.attemptErrors.get(`/${rel}`) ?? []) out.push(`  attempt ${e}`);
    for (const entry of readdirSync(r.local).filter((n) => n.includes(base) && n !== base))
      out.push(`  ${entry}: ${statSync(join(r.local, entry)).size} B`);
    for (const line of log
      .lines()
      .filter((l) => l.includes(base))
      .slice(-15))
      out.push(`  log ${logLine(line, now)}`);
  }
  return out.join('\n');
}

const dupes = (m: ReadonlyMap<string, number>): number => [...m.values()].filter((n) => n > 1).length;

if (kinds.length === 0) {
  test('daemon faults: real FTP servers', (t) => t.skip(skipped.join('; ')));
}

for (const kind of kinds) {
  test(
    `daemon · ${kind}: resets, stalls, 421 at login, 450/451/550 replies`,
    { timeout: scaled(240_000) },
    async (t) => {
      const permanent = new Set<string>();
      const once450 = new Set<string>();
      const twice451 = new Set<string>();
      const rules: FaultRules = {
        resetRate: 0.1,
        stallRate: 0.03,
        controlStallRate: 0.005,
        loginBusy: (n) => n === 3 || n % 7 === 0,
        retrReply: (path, attempt) => {
          if (permanent.has(path)) return 550;
          if (once450.has(path) && attempt === 1) return 450;
          if (twice451.has(path) && attempt <= 2) return 451;
          return null;
        },
      };
      const r = await rig(t, kind, rules, 21);
      r.files.forEach((f, i) => {
        if (i % 12 === 7) permanent.add(`/${f.relPath}`);
        else if (i % 5 === 1) once450.add(`/${f.relPath}`);
        else if (i % 5 === 2) twice451.add(`/${f.relPath}`);
      });
      const callbacks = new Map<string, number>();
      const log = textSink();
      const d = daemonFor(r, { callbacks }, log);
      const run = await runUntilSettled(d, r.files.length);
      run.callbacks = callbacks;
      const expected = new Map(
        r.files.filter((f) => !permanent.has(`/${f.relPath}`)).map((f) => [f.relPath, f.sha256]),
      );
      const check = checkMirror(r.local, expected, { completions: run.downloads });
      const parkedRight = [...run.failed].filter(
        ([p, e]) => permanent.has(p) && e.includes('550') && e.includes(p),
      );
      // Refused files whose maxAttempts-th attempt hit connection trouble and got one more.
      const pastMax = [...permanent].filter(
        (p) => (run.attemptErrors.get(p)?.length ?? 0) > MAX_ATTEMPTS,
      ).length;
      const s = r.proxy.stats;
      recordRow({
        id: `daemon-${kind}-faults`,
        scenario: `Daemon (${kind}): resets, stalls, 421, 450/451/550`,
        injected: `RST 1 in 10 transfers (data or control), stall 3 in 100, reply stall 1 in 200 commands, 421 on some logins, 450/451 transient, 550 always on ${permanent.size} files`,
        cases: r.files.length,
        lost: check.lost.length,
        duplicated: Math.max(check.duplicated.length, dupes(callbacks)),
        corrupt: check.corrupt.length,
        maxRssMb: run.maxRssMb,
        longestHangMs: run.longestCycleMs,
        observed: `injected: ${s.resetsData} data RST, ${s.resetsControl} control RST, ${s.stallsData} data stalls, ${s.stallsControl} reply stalls, ${s.busy421} × 421, replies ${describeCounts(s.injectedReplies)}; ${run.cycles} cycles, ${run.retries} retries; ${run.processed} processed, ${run.failed.size} parked (${parkedRight.length} with their 550, ${pastMax} after connection trouble on attempt ${MAX_ATTEMPTS}); callbacks ${[...callbacks.values()].reduce((a, b) => a + b, 0)}; stray files ${check.stray.length}`,
      });
      assert.deepEqual(
        check,
        { lost: [], corrupt: [], duplicated: [], stray: [] },
        `${JSON.stringify(check)}\n${explain(r, run, check, log)}`,
      );
      assert.equal(run.processed, r.files.length - permanent.size, explain(r, run, check, log));
      assert.equal(run.failed.size, permanent.size);
      // A timeout or reset on a refused file's last attempt says nothing about the file: the row
      // is parked on the server's 550 (src/daemon/fetch.ts, parksAfter).
      const parkedWrong = [...run.failed].filter(([p]) => !parkedRight.some(([q]) => q === p));
      assert.equal(
        parkedRight.length,
        permanent.size,
        parkedWrong
          .map(([p, e]) => `${p} parked with ${e}\n  ${(run.attemptErrors.get(p) ?? []).join('\n  ')}`)
          .join('\n'),
      );
      assert.equal(callbacks.size, r.files.length - permanent.size);
      assert.equal(dupes(callbacks), 0, 'each callback once');
    },
  );

  test(
    `daemon · ${kind}: the server is down at start and restarts twice mid-cycle`,
    { timeout: scaled(240_000) },
    async (t) => {
      const r = await rig(t, kind, { delayMs: 2 }, 22);
      let server = r.server;
      t.after(() => server.stop());
      let restarts = 0;
      const restart = async (): Promise<void> => {
        r.proxy.setRules({ refuse: true });
        r.proxy.resetAll();
        await server.stop();
        await sleep(150);
        server = await startDebianServer(kind, {
          root: r.root,
          passivePorts: 300,
          password: r.server.password,
        });
        r.proxy.setUpstream(server.port);
        r.proxy.setRules({ refuse: false });
        restarts++;
      };
      const callbacks = new Map<string, number>();
      const log = textSink();
      const d = daemonFor(r, { callbacks }, log);
      // Down when the daemon starts (its first cycle cannot list), then killed and started again
      // twice in the middle of downloads.
      r.proxy.setRules({ refuse: true });
      let downloads = 0;
      let pendingRestart: Promise<void> = Promise.resolve();
      const at = new Set([1, Math.floor(r.files.length / 2)]);
      d.on('downloaded', () => {
        if (at.has(++downloads)) pendingRestart = pendingRestart.then(restart);
      });
      const run = await runUntilSettled(d, r.files.length, async (cycle) => {
        if (cycle === 0) r.proxy.setRules({ refuse: false });
        await pendingRestart;
      });
      await pendingRestart;
      const expected = new Map(r.files.map((f) => [f.relPath, f.sha256]));
      const check = checkMirror(r.local, expected, { completions: run.downloads });
      recordRow({
        id: `daemon-${kind}-restart`,
        scenario: `Daemon (${kind}): server down at start, restarts twice mid-cycle`,
        injected: 'server down for the first cycle, then killed and started again twice mid-download',
        cases: r.files.length,
        lost: check.lost.length,
        duplicated: Math.max(check.duplicated.length, dupes(callbacks)),
        corrupt: check.corrupt.length,
        maxRssMb: run.maxRssMb,
        longestHangMs: run.longestCycleMs,
        observed: `${restarts} restarts; ${run.cycles} cycles, ${run.retries} retries; ${run.processed} processed, ${run.failed.size} parked; stray files ${check.stray.length}`,
      });
      assert.equal(restarts, 2, explain(r, run, check, log));
      assert.deepEqual(
        check,
        { lost: [], corrupt: [], duplicated: [], stray: [] },
        `${JSON.stringify(check)}\n${explain(r, run, check, log)}`,
      );
      assert.equal(run.processed, r.files.length, explain(r, run, check, log));
      assert.equal(dupes(callbacks), 0);
    },
  );
}
