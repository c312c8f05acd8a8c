/**
 * Shared pieces of the reliability suite: fast/full counts, the result rows that
 * `npm run reliability` turns into docs/RELIABILITY.md, a memory sampler, a bounded retry loop
 * over `downloadFiles`, the mirror check (lost / duplicated / corrupt / stray files), and the
 * dataset + server + fault proxy rig the fault scenarios share.
 */
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { TestContext } from 'node:test';
import { join, relative } from 'node:path';
import { sha256File } from '../helpers/hash.js';
import { sleep } from '../helpers/wait.js';
import type { AsyncFTPClient } from '../../src/ftp/client.js';
import { parksAfter } from '../../src/daemon/fetch.js';
import { FtpReplyError } from '../../src/errors.js';
import type { RemoteEntry } from '../../src/ftp/types.js';
import { makeRadarDataset, type DatasetFile } from '../helpers/dataset.js';
import {
  DEBIAN_SERVER_KINDS,
  debianServerAvailable,
  startDebianServer,
  type DebianServer,
  type DebianServerKind,
} from '../helpers/debian-servers.js';
import { startFaultProxy, type FaultProxy, type FaultRules } from '../helpers/fault-proxy.js';

/** `RADARLIB_RELIABILITY=full` runs the heavy counts (npm run reliability). */
export const FULL = process.env['RADARLIB_RELIABILITY'] === 'full';

/** `fast` in `npm test`, `full` under RADARLIB_RELIABILITY=full. */
export function count(fast: number, full: number): number {
  return FULL ? full : fast;
}

/** One line of the report table. */
export interface ResultRow {
  /** Stable id, also the sort key of the table. */
  id: string;
  scenario: string;
  /** What was injected, in words (rates, counts). */
  injected: string;
  /** Files, kills, names, fuzz cases... */
  cases: number;
  lost: number;
  duplicated: number;
  corrupt: number;
  /** Files written outside the local folder. */
  outside?: number;
  maxRssMb: number;
  /** Longest single call (a batch, a cycle, a decode) or time to an error, in ms. */
  longestHangMs: number;
  /** What else was seen (retries, parked files, error codes...). */
  observed: string;
}

/** Appends the row to $RADARLIB_RELIABILITY_REPORT (a JSON-lines file) when set. */
export function recordRow(row: ResultRow): void {
  const file = process.env['RADARLIB_RELIABILITY_REPORT'];
  if (file === undefined || file === '') return;
  appendFileSync(file, `${JSON.stringify(row)}\n`);
}

/** Samples the process's RSS every 50 ms; `stop()` returns the peak in MB. */
export function memorySampler(): { stop(): number; peakMb(): number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  timer.unref();
  const mb = (): number => Math.round((Math.max(peak, process.memoryUsage().rss) / 1048576) * 10) / 10;
  return {
    stop() {
      clearInterval(timer);
      return mb();
    },
    peakMb: mb,
  };
}

/** The real servers to run against: the first available one, or all of them with FULL. */
export function serverKinds(): { kinds: DebianServerKind[]; skipped: string[] } {
  const kinds: DebianServerKind[] = [];
  const skipped: string[] = [];
  for (const kind of DEBIAN_SERVER_KINDS) {
    const why = debianServerAvailable(kind);
    if (why === null) kinds.push(kind);
    else skipped.push(why);
  }
  return { kinds: FULL ? kinds : kinds.slice(0, 1), skipped };
}

export interface RetryOutcome {
  /** Successful completions per remote path (exactly once means 1 each). */
  completions: Map<string, number>;
  /** Files given up on, with their last error. */
  parked: Map<string, Error>;
  /** Failed attempts per remote path. */
  attempts: Map<string, number>;
  /** Error codes seen, with counts. */
  errorCodes: Map<string, number>;
  rounds: number;
  longestRoundMs: number;
}

/**
 * `downloadFiles` in rounds: failures are retried (with a short backoff) and parked by the
 * daemon's own rule (`parksAfter` in src/daemon/fetch.ts: an unsafe name or a bad argument at
 * once; a 5xx reply like any other failure after `maxAttempts`; connection trouble alone after
 * twice that). Bounded by `maxRounds`.
 */
export async function downloadWithRetries(
  client: AsyncFTPClient,
  entries: readonly RemoteEntry[],
  localDir: string,
  options: {
    maxAttempts: number;
    maxRounds: number;
    maxConcurrent?: number;
    betweenRounds?: () => Promise<void>;
  },
): Promise<RetryOutcome> {
  const out: RetryOutcome = {
    completions: new Map(),
    parked: new Map(),
    attempts: new Map(),
    errorCodes: new Map(),
    rounds: 0,
    longestRoundMs: 0,
  };
  let pending = [...entries];
  for (let round = 0; round < options.maxRounds && pending.length > 0; round++) {
    out.rounds++;
    const started = Date.now();
    const batch = await client.downloadFiles(pending, localDir, {
      maxConcurrent: options.maxConcurrent ?? 4,
      onFileDone: ({ remotePath, error }) => {
        if (error === undefined) out.completions.set(remotePath, (out.completions.get(remotePath) ?? 0) + 1);
      },
    });
    out.longestRoundMs = Math.max(out.longestRoundMs, Date.now() - started);
    const byPath = new Map(pending.map((e) => [e.path, e]));
    pending = [];
    for (const { remotePath, error } of batch.failures) {
      const n = (out.attempts.get(remotePath) ?? 0) + 1;
      out.attempts.set(remotePath, n);
      const code = (error as { code?: string }).code ?? error.name;
      const key = error instanceof FtpReplyError ? `${code}:${error.replyCode}` : code;
      out.errorCodes.set(key, (out.errorCodes.get(key) ?? 0) + 1);
      if (parksAfter(error, n, options.maxAttempts)) out.parked.set(remotePath, error);
      else pending.push(byPath.get(remotePath) as RemoteEntry);
    }
    if (pending.length > 0) {
      await options.betweenRounds?.();
      await sleep(Math.min(1000, 50 * 2 ** round));
    }
  }
  for (const e of pending) out.parked.set(e.path, new Error('still pending after the last round'));
  return out;
}

export interface MirrorCheck {
  lost: string[];
  corrupt: string[];
  duplicated: string[];
  /** Files in the local folder that are not expected final files (`.part` leftovers, strays). */
  stray: string[];
}

/**
 * Compares the local folder with what should be there: `expected` maps local relative paths to
 * their SHA-256. `completions` (optional) counts successes per key; more than one is a duplicate.
 */
export function checkMirror(
  localDir: string,
  expected: ReadonlyMap<string, string>,
  options: { completions?: ReadonlyMap<string, number>; ignore?: (rel: string) => boolean } = {},
): MirrorCheck {
  const present = new Set(walkFiles(localDir).filter((rel) => !(options.ignore?.(rel) ?? false)));
  const lost: string[] = [];
  const corrupt: string[] = [];
  for (const [rel, sum] of expected) {
    if (!present.has(rel)) lost.push(rel);
    else if (sha256File(join(localDir, rel)) !== sum) corrupt.push(rel);
    present.delete(rel);
  }
  const duplicated = [...(options.completions ?? new Map<string, number>())]
    .filter(([, n]) => n > 1)
    .map(([p]) => p);
  return { lost, corrupt, duplicated, stray: [...present].sort() };
}

/** Every file under `dir`, relative, skipping the ledger folder. */
export function walkFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string, depth: number): void => {
    if (depth > 32) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== '.radarlib') walk(p, depth + 1);
      } else out.push(relative(dir, p));
    }
  };
  walk(dir, 0);
  return out.sort();
}

export function fileSize(path: string): number {
  return statSync(path).size;
}

/** `{a: 1, b: 2}` → `a 1, b 2` for the observed column. */
export function describeCounts(m: ReadonlyMap<string, number> | Record<string, number>): string {
  const entries = m instanceof Map ? [...m] : Object.entries(m);
  return entries.length === 0 ? 'none' : entries.map(([k, v]) => `${k} ×${v}`).join(', ');
}

/** A radar dataset served by a real server, reached through the fault proxy. */
export interface FaultRig {
  root: string;
  local: string;
  files: DatasetFile[];
  server: DebianServer;
  proxy: FaultProxy;
}

/**
 * Builds a flat dataset of `volumes` × 6 fields, serves it with `kind` and puts the fault proxy
 * in front; everything is stopped and removed when the test ends (after the test's own cleanups).
 */
export async function startFaultRig(
  t: TestContext,
  kind: DebianServerKind,
  rules: FaultRules,
  options: { seed: number; volumes: number; prefix: string },
): Promise<FaultRig> {
  const base = mkdtempSync(join(tmpdir(), options.prefix));
  const root = join(base, 'srv');
  const local = join(base, 'local');
  mkdirSync(root);
  const files = await makeRadarDataset(root, {
    volumes: options.volumes,
    layout: 'flat',
    sizeMin: 20_000,
    sizeMax: 200_000,
    seed: options.seed,
  });
  const server = await startDebianServer(kind, { root, passivePorts: 300 });
  const proxy = await startFaultProxy({
    upstreamHost: server.host,
    upstreamPort: server.port,
    seed: options.seed,
    ...rules,
  });
  t.after(async () => {
    await proxy.stop();
    await server.stop();
    rmSync(base, { recursive: true, force: true });
  });
  return { root, local, files, server, proxy };
}
