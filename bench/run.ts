/**
 * `npm run bench`: radarlib beside lftp and rclone on the same server and data, in one run.
 *
 *   node --import tsx bench/run.ts [--skip-loopback] [--skip-wan] [--skip-idle] [--skip-ledger]
 *                                  [--skip-bufr] [--runs N] [--no-docs] [--smoke] [--report-only]
 *                                  [--tools lftp,rclone,'radarlib maxConcurrent=5'] [--volumes 8]
 *                                  [--listing walk|list|daemon] [--out DIR] [--tls] [--idle-days 2,30]
 *
 * 1. Mirror: 240 radar-sized files (about 110 MB, radar date tree) on proftpd, (a) over loopback
 *    (test/helpers/debian-servers.ts) and (b) over an emulated WAN link, 50 ms RTT and 100 Mbit/s,
 *    into a network namespace this script sets up and removes (bench/wan/wan.sh; needs root).
 *    radarlib with maxConcurrent 1, 5 and 'auto'; lftp mirror --parallel=1 and 5; rclone copy
 *    --transfers 5. Every tool runs as a child process: wall time, CPU time (rusage of the child for
 *    the peers; process.cpuUsage() of the radarlib child at exit), and on the WAN the FTP commands
 *    the server received (proftpd command log).
 * 2. Idle poll: a date tree with 2 and with 30 days of history; the daemon's idle `runOnce` (FTP
 *    commands, wall time) beside lftp re-running its mirror on a complete copy.
 * 3. Ledger (bench/ledger.ts) and BUFR (bench/bufr.ts, bench/bufr-eccodes.ts) are run and their
 *    JSON merged.
 *
 * Writes bench/results/{mirror,idle-poll,suite}.json, prints the table and rewrites the sections
 * between the `<!-- bench:... -->` markers of docs/PERFORMANCE.md (other sections are kept).
 * Every child command has a timeout; the namespace is removed even on failure or Ctrl-C.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { connect } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { makeRadarDataset, type DatasetFile } from '../test/helpers/dataset.js';
import { debianServerAvailable, startDebianServer } from '../test/helpers/debian-servers.js';
import { startEmbeddedFtpServer } from '../src/demo/embedded-ftp-server.js';
import { proftpdUnavailable, startProftpd, type BenchServer } from './lib/proftpd.js';
import {
  countBufr,
  has,
  rcloneFtpRemote,
  REPO,
  RESULTS,
  RUN_GAP_MS,
  wan,
  WAN_HOST,
  WAN_NS,
} from './lib/setup.js';
import {
  CAPACITY_PROBES,
  LINK_PAYLOAD_BYTES_PER_S,
  measureLinkCapacity,
  type LinkCapacity,
} from './lib/link-capacity.js';
import type { MirrorRequest, MirrorResult } from './mirror.js';
import type { IdlePollRequest, IdlePollResult } from './idle-poll.js';
import { median } from './lib/stats.js';

const WAN_PORT = 2121;
/** Where bench/lib/link-capacity.ts's plain TCP sender listens inside the namespace. */
const WAN_CAPACITY_PORT = 2199;

// ---------------------------------------------------------------------------------------------
// result shapes (the JSON the smoke test checks)

export interface ToolRun {
  env: 'loopback' | 'wan';
  tool: string;
  /** 'radarlib' | 'lftp' | 'rclone' */
  family: string;
  parallel: number | 'auto';
  ok: boolean;
  note: string | null;
  wallS: number | null;
  mbPerS: number | null;
  cpuS: number | null;
  files: number;
  bytes: number;
  /** wall / wall of lftp at the same parallelism (lftp --parallel=5 for auto). */
  ratioToLftp: number | null;
  /** link limit / wall (WAN only). */
  linkFraction: number | null;
  /** The data set at the link's measured steady rate (median probe, middle 80 %), s / wall (WAN only). */
  capacityFraction?: number | null;
  /** FTP commands the server received, per verb (when the server logs them). */
  commands: Record<string, number> | null;
  detail: Partial<MirrorResult> | null;
}

export interface IdleRun {
  env: 'loopback' | 'wan';
  days: number;
  tool: string;
  ok: boolean;
  note: string | null;
  wallS: number | null;
  commands: number | null;
  commandsByVerb: Record<string, number> | null;
  listings: number | null;
  changedFiles: number | null;
}

export interface SuiteResult {
  date: string;
  node: string;
  cpu: string;
  cpus: number;
  smoke: boolean;
  dataset: { files: number; bytes: number; layout: 'tree' };
  wan: {
    rttMs: number | null;
    linkLimitS: number | null;
    skipped: string | null;
    /** Plain TCP over the emulated link (bench/lib/link-capacity.ts), before the mirrors. */
    capacity?: LinkCapacity[];
    /** The data set's bytes at the median probe's steady rate (middle 80 % of its bytes), s. */
    capacityLimitS?: number | null;
  };
  mirror: ToolRun[];
  idle: IdleRun[];
  ledger: unknown;
  bufr: unknown;
  /** bench/bufr-eccodes.ts: general BUFR decode against ecCodes (issue 16). */
  bufrEccodes?: unknown;
  skipped: string[];
}

// ---------------------------------------------------------------------------------------------
// child processes

interface Timed {
  rc: number | null;
  wallS: number;
  /** user + system CPU of the child and everything it waited for (bash `times`). */
  cpuS: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs `argv` under `timeout`, measuring wall time and the children's CPU (bash `times`). */
function runTimed(argv: string[], timeoutS: number, env?: NodeJS.ProcessEnv): Promise<Timed> {
  const timesFile = join(
    tmpdir(),
    `radarlib-bench-times-${process.pid}-${Math.random().toString(36).slice(2)}`,
  );
  const script = 'timeout -k 5 "$0" "$@"; rc=$?; times > "$TIMES_FILE"; exit $rc';
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn('bash', ['-c', script, String(timeoutS), ...argv], {
      env: { ...process.env, ...env, TIMES_FILE: timesFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
    child.on('close', (code) => {
      const wallS = (performance.now() - t0) / 1000;
      let cpuS = NaN;
      try {
        // line 2: children's user and system time, e.g. "0m1.234s 0m0.567s"
        const line = readFileSync(timesFile, 'utf8').trim().split('\n')[1] ?? '';
        cpuS = [...line.matchAll(/(\d+)m([\d.]+)s/g)].reduce(
          (s, m) => s + Number(m[1]) * 60 + Number(m[2]),
          0,
        );
        rmSync(timesFile, { force: true });
      } catch {
        // no times file: the shell itself died
      }
      resolve({ rc: code, wallS, cpuS, stdout, stderr, timedOut: code === 124 || code === 137 });
    });
  });
}

/**
 * The radarlib children run compiled JavaScript on plain `node` (as a deployed daemon does), not
 * through tsx, whose loader would add its own startup CPU to radarlib's numbers. Transpiles src/
 * and the two child scripts into node_modules/.cache (where bare imports still resolve).
 */
export async function compileChildren(): Promise<{ mirror: string; idle: string }> {
  const { default: ts } = await import('typescript');
  const out = join(REPO, 'node_modules', '.cache', 'radarlib-bench');
  const sources: string[] = ['bench/mirror.ts', 'bench/idle-poll.ts', 'bench/lib/daemon.ts'];
  const walk = (dir: string): void => {
    for (const e of readdirSync(join(REPO, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) sources.push(rel);
    }
  };
  walk('src');
  for (const rel of sources) {
    const { outputText } = ts.transpileModule(readFileSync(join(REPO, rel), 'utf8'), {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
      },
      fileName: rel,
    });
    const file = join(out, rel.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, outputText);
  }
  writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
  return { mirror: join(out, 'bench', 'mirror.js'), idle: join(out, 'bench', 'idle-poll.js') };
}

/** Files under `dir` whose ctime is after `sinceMs` (written or touched by a re-mirror). */
function changedSince(dir: string, sinceMs: number): number {
  let n = 0;
  const walk = (d: string, depth: number): void => {
    if (depth > 16 || !existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (statSync(p).ctimeMs > sinceMs) n++;
    }
  };
  walk(dir, 0);
  return n;
}

/**
 * The commands of one daemon cycle: the log is read after the child exited, so the QUITs of its
 * `stop()` are in it; a running daemon sends none between cycles.
 */
function cycleCommands(verbs: Record<string, number>): Record<string, number> {
  const { QUIT: _quit, ...rest } = verbs;
  return rest;
}

function sumCommands(c: Record<string, number> | null): number | null {
  return c === null ? null : Object.values(c).reduce((a, b) => a + b, 0);
}

// ---------------------------------------------------------------------------------------------
// tools

interface Target {
  env: 'loopback' | 'wan';
  host: string;
  port: number;
  user: string;
  password: string;
  remote: string;
  /** Present when the server counts commands. */
  counter?: BenchServer;
  /** Explicit FTPS with this self-signed certificate (`--tls`). */
  tlsCa?: string;
}

interface Tool {
  name: string;
  family: 'radarlib' | 'lftp' | 'rclone';
  parallel: number | 'auto';
  /** radarlib `overlapSetup`: a second control connection per transfer slot. */
  overlap?: boolean;
}

function lftpArgv(t: Target, parallel: number, dest: string): string[] {
  const tls =
    t.tlsCa === undefined
      ? ['set ftp:ssl-allow no']
      : ['set ftp:ssl-force yes', 'set ftp:ssl-protect-data yes', 'set ssl:verify-certificate no'];
  const script = [
    ...tls,
    'set net:max-retries 2',
    'set net:timeout 30',
    'set cmd:fail-exit yes',
    `mirror --parallel=${parallel} --no-perms ${t.remote} ${dest}`,
    'quit',
  ].join('; ');
  return ['lftp', '-u', `${t.user},${t.password}`, '-p', String(t.port), '-e', script, t.host];
}

async function runTool(
  tool: Tool,
  t: Target,
  work: string,
  children: { mirror: string },
  listing: 'walk' | 'list' | 'daemon',
  timeoutS: number,
  expect: { files: number; bytes: number },
): Promise<ToolRun> {
  const dest = join(work, `dest-${t.env}-${tool.name.replace(/[^a-z0-9]+/gi, '_')}`);
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  await sleep(RUN_GAP_MS);
  t.counter?.resetCommands();
  let timed: Timed;
  let detail: Partial<MirrorResult> | null = null;
  if (tool.family === 'radarlib') {
    const { tlsCa, ...plain } = t;
    const req: MirrorRequest = {
      ...plain,
      dest,
      concurrency: tool.parallel,
      listing,
      ...(tool.overlap === true ? { overlapSetup: true } : {}),
      ...(tlsCa === undefined ? {} : { tlsCa }),
    };
    timed = await runTimed([process.execPath, children.mirror, JSON.stringify(req)], timeoutS);
    const line = timed.stdout.trim().split('\n').pop() ?? '';
    try {
      detail = JSON.parse(line) as MirrorResult;
    } catch {
      detail = null;
    }
  } else if (tool.family === 'lftp') {
    timed = await runTimed(lftpArgv(t, tool.parallel as number, dest), timeoutS);
  } else {
    timed = await runTimed(
      [
        'rclone',
        'copy',
        `bench:${t.remote}`,
        dest,
        '--transfers',
        String(tool.parallel),
        '--retries',
        '1',
        '--low-level-retries',
        '3',
      ],
      timeoutS,
      rcloneFtpRemote(t, work, t.tlsCa !== undefined),
    );
  }
  const got = countBufr(dest);
  const ok = timed.rc === 0 && got.files === expect.files && got.bytes === expect.bytes;
  // radarlib: its own process.cpuUsage() at exit (the whole process); peers: child rusage
  const cpuS =
    detail?.cpuUserS !== undefined ? (detail.cpuUserS ?? 0) + (detail.cpuSystemS ?? 0) : timed.cpuS;
  const note = ok
    ? null
    : timed.timedOut
      ? `timed out after ${timeoutS} s`
      : `rc=${timed.rc} files ${got.files}/${expect.files}: ${[...(detail?.failures ?? []).slice(0, 2), ...timed.stderr.trim().split('\n').slice(-2)].join(' | ')}`;
  rmSync(dest, { recursive: true, force: true });
  const run: ToolRun = {
    env: t.env,
    tool: tool.name,
    family: tool.family,
    parallel: tool.parallel,
    ok,
    note,
    wallS: timed.wallS,
    mbPerS: got.bytes / 1e6 / timed.wallS,
    cpuS: Number.isFinite(cpuS) ? cpuS : null,
    files: got.files,
    bytes: got.bytes,
    ratioToLftp: null,
    linkFraction: null,
    commands: t.counter?.commands() ?? null,
    detail,
  };
  console.error(
    `  ${t.env.padEnd(8)} ${tool.name.padEnd(22)} ${timed.wallS.toFixed(2).padStart(7)} s  cpu ${run.cpuS?.toFixed(2) ?? '?'} s` +
      `  ${ok ? 'ok' : `FAILED (${note})`}`,
  );
  return run;
}

/** Median run per tool (by wall time) of `runs` repetitions. */
async function runTools(
  tools: Tool[],
  t: Target,
  work: string,
  children: { mirror: string },
  listing: 'walk' | 'list' | 'daemon',
  runs: number,
  timeoutS: (tool: Tool) => number,
  expect: { files: number; bytes: number },
): Promise<ToolRun[]> {
  const all = new Map<string, ToolRun[]>();
  for (let r = 0; r < runs; r++) {
    for (const tool of tools) {
      const run = await runTool(tool, t, work, children, listing, timeoutS(tool), expect);
      all.set(tool.name, [...(all.get(tool.name) ?? []), run]);
    }
  }
  return tools.map((tool) => {
    const list = all.get(tool.name) ?? [];
    const good = list.filter((x) => x.ok).sort((a, b) => (a.wallS ?? 0) - (b.wallS ?? 0));
    return good[Math.floor((good.length - 1) / 2)] ?? (list[0] as ToolRun);
  });
}

function addRatios(runs: ToolRun[], linkLimitS: number | null, capacityLimitS?: number | null): void {
  for (const r of runs) {
    if (r.ok && capacityLimitS != null && r.env === 'wan' && r.wallS != null)
      r.capacityFraction = capacityLimitS / r.wallS;
    const p = r.parallel === 'auto' || r.parallel > 5 ? 5 : r.parallel;
    const lftp = runs.find((x) => x.env === r.env && x.family === 'lftp' && x.parallel === p && x.ok);
    if (r.ok && lftp?.wallS != null && r.wallS != null) r.ratioToLftp = r.wallS / lftp.wallS;
    if (r.ok && linkLimitS !== null && r.env === 'wan' && r.wallS != null)
      r.linkFraction = linkLimitS / r.wallS;
  }
}

// ---------------------------------------------------------------------------------------------
// WAN link

/** Median TCP connect time to host:port (one round trip). */
async function tcpRttMs(host: string, port: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 7; i++) {
    samples.push(
      await new Promise<number>((resolve, reject) => {
        const t0 = performance.now();
        const s = connect({ host, port });
        s.setTimeout(5000, () => {
          s.destroy();
          reject(new Error('connect timeout'));
        });
        s.once('connect', () => {
          resolve(performance.now() - t0);
          s.destroy();
        });
        s.once('error', reject);
      }),
    );
  }
  samples.sort((a, b) => a - b);
  return samples[3] as number;
}

function wanSkipReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network namespace, TUN devices)';
  if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun';
  if (!has('ip')) return 'iproute2 (ip) not installed';
  if (!has('python3')) return 'python3 not installed (WAN forwarder)';
  return proftpdUnavailable();
}

// ---------------------------------------------------------------------------------------------
// idle poll

async function idleDataset(dir: string, days: number): Promise<DatasetFile[]> {
  // 4 moments per volume, 1 KB files: the cost of an idle poll is the listings, not the bytes;
  // 30 days x 144 volumes x 4 = 17,280 files (makeRadarDataset caps a data set at 20,000).
  return makeRadarDataset(dir, {
    volumes: days * 144,
    layout: 'tree',
    fields: ['DBZH', 'ZDR', 'RHOHV', 'VRAD'],
    sizeMin: 1024,
    sizeMax: 1024,
  });
}

async function idleRadarlib(
  env: 'loopback' | 'wan',
  days: number,
  server: BenchServer,
  files: DatasetFile[],
  work: string,
  idleJs: string,
  timeoutS: number,
): Promise<IdleRun[]> {
  const dir = join(work, `idle-${env}-${days}d`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const historyFile = join(dir, 'history.json');
  writeFileSync(
    historyFile,
    JSON.stringify(
      files.map((f) => ({ remotePath: `/${f.relPath}`, size: f.size, mtime: f.mtime.getTime() })),
    ),
  );
  const req: IdlePollRequest = {
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    dir,
    historyFile,
  };
  const base: IdleRun = {
    env,
    days,
    tool: 'radarlib daemon runOnce',
    ok: false,
    note: null,
    wallS: null,
    commands: null,
    commandsByVerb: null,
    listings: null,
    changedFiles: null,
  };
  // The first walk's commands (read when the child says READY, before the idle cycle's count).
  let firstWalk: Record<string, number> | null = null;
  const result = await new Promise<IdlePollResult | string>((resolve) => {
    const child = spawn(process.execPath, [idleJs, JSON.stringify(req)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('READY\n') && !out.includes('\n{')) {
        if (!child.stdin.writableEnded) {
          firstWalk = server.commands();
          server.resetCommands();
          child.stdin.end('go\n');
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as IdlePollResult);
      else resolve(`exit ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`);
    });
  });
  rmSync(dir, { recursive: true, force: true });
  if (typeof result === 'string') return [{ ...base, note: result }];
  const verbs = cycleCommands(server.commands());
  const first: IdleRun = {
    ...base,
    tool: 'radarlib first walk (runOnce, history in the ledger)',
    ok: result.warm.downloaded === 0,
    wallS: result.warm.wallMs / 1000,
    commands: sumCommands(firstWalk),
    commandsByVerb: firstWalk,
    listings: result.warm.listings,
    changedFiles: result.warm.downloaded,
  };
  const idle: IdleRun = {
    ...base,
    ok: result.idle.added === 0 && result.idle.downloaded === 0,
    note: `cycle 1 (first walk): ${result.warm.listings} listings, ${(result.warm.wallMs / 1000).toFixed(2)} s`,
    wallS: result.idle.wallMs / 1000,
    commands: sumCommands(verbs),
    commandsByVerb: verbs,
    listings: result.idle.listings,
    changedFiles: result.idle.downloaded,
  };
  return [first, idle];
}

async function idleLftp(
  env: 'loopback' | 'wan',
  days: number,
  server: BenchServer,
  data: string,
  work: string,
  timeoutS: number,
): Promise<IdleRun> {
  const dest = join(work, `idle-lftp-${env}-${days}d`);
  rmSync(dest, { recursive: true, force: true });
  // a complete copy, times preserved: what a previous mirror left (fetching it over the WAN first
  // would take minutes of 1 KB transfers and measure nothing new)
  cpSync(join(data, 'L2'), dest, { recursive: true, preserveTimestamps: true });
  const marker = Date.now();
  await new Promise((r) => setTimeout(r, 50));
  server.resetCommands();
  const t: Target = {
    env,
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    remote: '/L2',
  };
  const timed = await runTimed(lftpArgv(t, 5, dest), timeoutS);
  const verbs = server.commands();
  const changed = changedSince(dest, marker);
  rmSync(dest, { recursive: true, force: true });
  return {
    env,
    days,
    tool: 'lftp mirror --parallel=5',
    ok: timed.rc === 0,
    note: timed.timedOut
      ? `timed out after ${timeoutS} s; commands counted until then`
      : timed.rc !== 0
        ? `rc=${timed.rc}`
        : changed > 0
          ? `touched ${changed} local files`
          : null,
    wallS: timed.wallS,
    commands: sumCommands(verbs),
    commandsByVerb: verbs,
    listings: (verbs.MLSD ?? 0) + (verbs.LIST ?? 0) + (verbs.NLST ?? 0),
    changedFiles: changed,
  };
}

// ---------------------------------------------------------------------------------------------
// table + docs

const f = (v: number | null | undefined, d = 2): string =>
  v == null || !Number.isFinite(v) ? '–' : v.toFixed(d);

export function renderMirrorTable(s: SuiteResult): string {
  const lines = [
    '| link | tool | wall s | MB/s | CPU s | ratio to lftp (same parallelism) | fraction of link limit (nominal) | fraction of the measured steady link rate | FTP commands | ok |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of s.mirror) {
    const tool =
      r.detail?.dataTransfers == null
        ? r.tool
        : `${r.tool} (data transfers at once: mean ${f(r.detail.dataTransfers.mean, 1)}, peak ${r.detail.dataTransfers.peak}; ${r.detail.peakConnections ?? '?'} control connections)`;
    lines.push(
      `| ${r.env} | ${tool} | ${f(r.wallS)} | ${f(r.mbPerS, 1)} | ${f(r.cpuS)} | ${f(r.ratioToLftp)} | ${f(r.linkFraction)} | ${f(r.capacityFraction)} | ${sumCommands(r.commands) ?? '–'} | ${r.ok ? 'yes' : `no: ${r.note ?? ''}`} |`,
    );
  }
  return lines.join('\n');
}

export function renderIdleTable(s: SuiteResult): string {
  const lines = [
    '| link | history | tool | wall s | FTP commands | listings | files fetched | ok |',
    '|---|---:|---|---:|---:|---:|---:|---|',
  ];
  for (const r of s.idle) {
    lines.push(
      `| ${r.env} | ${r.days} days | ${r.tool} | ${f(r.wallS)} | ${r.commands ?? '–'} | ${r.listings ?? '–'} | ${r.changedFiles ?? '–'} | ${r.ok ? 'yes' : 'no'}${r.note === null ? '' : ` (${r.note})`} |`,
    );
  }
  return lines.join('\n');
}

function renderSummaryTable(s: SuiteResult): string {
  const rows: string[] = ['| benchmark | metric | value |', '|---|---|---:|'];
  const ledger = s.ledger as {
    rows?: number;
    rssMb?: number;
    maxRssMb?: number;
    idleObserve?: { cpuMs?: { median?: number } };
  } | null;
  if (ledger !== null && typeof ledger === 'object') {
    rows.push(
      `| ledger (${(ledger.rows ?? 0).toLocaleString('en-US')} rows) | idle observe CPU (median) | ${f(ledger.idleObserve?.cpuMs?.median)} ms |`,
    );
    rows.push(`| ledger | resident memory (max) | ${f(ledger.maxRssMb, 1)} MB |`);
  }
  const bufr = s.bufr as {
    rows?: { file: string; decodeMs: number; floorMs: number; ratio: number }[];
  } | null;
  for (const r of bufr?.rows ?? []) {
    rows.push(
      `| BUFR decode | ${r.file} | ${f(r.decodeMs)} ms (zlib floor ${f(r.floorMs)} ms, ×${f(r.ratio)}) |`,
    );
  }
  const eccodes = s.bufrEccodes as {
    rows?: { message: string; radarlibMs: number; eccodesMs: number; ratio: number }[];
  } | null;
  for (const r of eccodes?.rows ?? []) {
    rows.push(
      `| BUFR vs ecCodes | ${r.message} | ${f(r.radarlibMs)} ms (ecCodes ${f(r.eccodesMs)} ms, ×${f(r.ratio)} faster) |`,
    );
  }
  return rows.join('\n');
}

/** The emulated link's measured capacity, for the report's first line. */
function renderCapacity(s: SuiteResult): string {
  const probes = s.wan.capacity ?? [];
  if (probes.length === 0) return '';
  const each = probes
    .map((c) => `${c.streams}: ${f((c.bulkBytesPerS * 8) / 1e6, 1)} (${f((c.steadyBytesPerS * 8) / 1e6, 0)})`)
    .join(', ');
  return `; plain TCP over the emulator, Mbit/s by streams, middle 80 % of the bytes (first to last byte) ${each}; at the median steady rate this data set needs ${f(s.wan.capacityLimitS, 2)} s`;
}

export function renderReport(s: SuiteResult): string {
  const parts = [
    `Run ${s.date} on ${s.cpus}× ${s.cpu}, node ${s.node}. Data set: ${s.dataset.files} files, ` +
      `${(s.dataset.bytes / 1e6).toFixed(1)} MB (radar date tree). WAN: ${s.wan.skipped === null ? `${f(s.wan.rttMs, 1)} ms RTT measured (TCP connect), link limit ${f(s.wan.linkLimitS, 1)} s (100 Mbit/s, TCP payload)${renderCapacity(s)}` : `skipped: ${s.wan.skipped}`}.`,
    '',
    '### Mirror',
    '',
    renderMirrorTable(s),
    '',
    '### Idle poll (a cycle that finds nothing new)',
    '',
    renderIdleTable(s),
  ];
  const summary = renderSummaryTable(s);
  if (summary.split('\n').length > 2)
    parts.push('', '### Ledger and BUFR (merged from their benchmarks)', '', summary);
  if (s.skipped.length > 0) parts.push('', `Skipped: ${s.skipped.join('; ')}.`);
  return parts.join('\n');
}

const START = '<!-- bench:results:start (written by npm run bench) -->';
const END = '<!-- bench:results:end -->';

/**
 * Replaces the generated block of docs/PERFORMANCE.md, keeping every other section, and formats
 * the file as `npm run lint` (prettier --check) expects.
 */
async function writeDocs(report: string): Promise<void> {
  const path = join(REPO, 'docs', 'PERFORMANCE.md');
  const block = `${START}\n${report}\n${END}`;
  let text = existsSync(path) ? readFileSync(path, 'utf8') : '# Performance\n\n## FTP benchmark results\n\n';
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a >= 0 && b > a) text = `${text.slice(0, a)}${block}${text.slice(b + END.length)}`;
  else text = `${text.trimEnd()}\n\n## FTP benchmark results\n\n${block}\n`;
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(path)) ?? {};
  writeFileSync(path, await prettier.format(text, { ...options, filepath: path }));
}

// ---------------------------------------------------------------------------------------------
// main

export interface SuiteOptions {
  /** A few files on the embedded server, loopback only: the CI smoke version. */
  smoke?: boolean;
  skipWan?: boolean;
  skipLoopback?: boolean;
  skipIdle?: boolean;
  skipLedger?: boolean;
  skipBufr?: boolean;
  runs?: number;
  /** Where the JSON goes. @default bench/results */
  outDir?: string;
  /** Rewrite docs/PERFORMANCE.md. @default true unless smoke */
  docs?: boolean;
  /** Only the mirror tools whose name contains one of these (case-insensitive). @default all */
  tools?: string[];
  /** Days of history of the idle-poll trees. @default [2, 30] */
  idleDays?: number[];
  /** Radar volumes in the data set (6 files each): 40 = the 240-file set, 8 = a 48-file batch. */
  volumes?: number;
  /**
   * How radarlib gets its file list: `walk` streams `walkEntries` into `downloadFiles`; `list`
   * lists everything first (`listFiles`, the README's way), then downloads. @default 'walk'
   */
  listing?: 'walk' | 'list' | 'daemon';
  /** Explicit FTPS on every server (radarlib trusts the certificate; lftp/rclone skip checks). */
  tls?: boolean;
}

function runSideBench(script: string, json: string, timeoutS: number, skipped: string[]): unknown {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'bench', script)], {
    cwd: REPO,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: timeoutS * 1000,
  });
  if (r.status !== 0)
    skipped.push(
      `bench/${script} failed (status ${r.status}${r.error ? `, ${r.error.message}` : ''}); using its last results`,
    );
  const path = join(RESULTS, json);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as unknown) : null;
}

export async function runSuite(opts: SuiteOptions = {}): Promise<SuiteResult> {
  const smoke = opts.smoke === true;
  const runs = opts.runs ?? 1;
  const outDir = opts.outDir ?? RESULTS;
  const skipped: string[] = [];
  const work = await mkdtemp(join(tmpdir(), 'radarlib-bench-'));
  // the servers serve folders below it as nobody: it must be traversable
  chmodSync(work, 0o711);
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(work, { recursive: true, force: true })];
  let wanIsUp = false;
  const onSignal = (): void => {
    if (wanIsUp) wan('down');
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const children = await compileChildren();
    const data = join(work, 'data');
    const files = await makeRadarDataset(
      data,
      smoke
        ? { volumes: 2, layout: 'tree', sizeMin: 20_000, sizeMax: 200_000 }
        : { volumes: opts.volumes ?? 40, layout: 'tree' },
    );
    const expect = { files: files.length, bytes: files.reduce((n, x) => n + x.size, 0) };
    console.error(`data set: ${expect.files} files, ${(expect.bytes / 1e6).toFixed(1)} MB in ${data}`);

    const peers: Tool[] = [];
    const lftp = has('lftp');
    const rclone = has('rclone');
    if (!lftp) skipped.push('lftp not installed (apt-get install lftp)');
    if (!rclone) skipped.push('rclone not installed (apt-get install rclone)');
    const tools: Tool[] = [
      { name: 'radarlib maxConcurrent=1', family: 'radarlib', parallel: 1 },
      { name: 'radarlib maxConcurrent=5', family: 'radarlib', parallel: 5 },
      { name: 'radarlib maxConcurrent=5 overlapSetup', family: 'radarlib', parallel: 5, overlap: true },
      { name: "radarlib maxConcurrent='auto'", family: 'radarlib', parallel: 'auto' },
      { name: 'radarlib maxConcurrent=16', family: 'radarlib', parallel: 16 },
    ];
    if (lftp)
      peers.push(
        { name: 'lftp --parallel=1', family: 'lftp', parallel: 1 },
        { name: 'lftp --parallel=5', family: 'lftp', parallel: 5 },
      );
    if (rclone) peers.push({ name: 'rclone --transfers 5', family: 'rclone', parallel: 5 });
    tools.push(...peers);
    const wanted = opts.tools?.map((t) => t.toLowerCase());
    // `--tools =N`: a fixed width not in the list above (e.g. =24, to see whether more connections pay)
    for (const w of wanted ?? []) {
      const n = /^=(\d+)$/.exec(w)?.[1];
      if (n !== undefined && !tools.some((t) => t.parallel === Number(n)))
        tools.push({ name: `radarlib maxConcurrent=${n}`, family: 'radarlib', parallel: Number(n) });
    }
    if (wanted !== undefined) {
      const kept = tools.filter((t) => wanted.some((w) => t.name.toLowerCase().includes(w)));
      skipped.push(
        `tools not in --tools: ${tools
          .filter((t) => !kept.includes(t))
          .map((t) => t.name)
          .join(', ')}`,
      );
      tools.splice(0, tools.length, ...kept);
    }
    const listing = opts.listing ?? 'walk';

    // ---- (a) loopback
    const mirror: ToolRun[] = [];
    if (opts.skipLoopback === true) skipped.push('loopback runs: --skip-loopback');
    else {
      let target: Target;
      let stop: () => Promise<void>;
      const why = smoke ? 'smoke' : debianServerAvailable('proftpd');
      if (why === null) {
        const srv = await startDebianServer('proftpd', {
          root: data,
          passivePorts: 100,
          ...(opts.tls === true ? { tls: 'explicit' as const } : {}),
        });
        target = {
          env: 'loopback',
          host: srv.host,
          port: srv.port,
          user: srv.user,
          password: srv.password,
          remote: '/L2',
          ...(srv.tlsCertPem === undefined ? {} : { tlsCa: srv.tlsCertPem }),
        };
        stop = () => srv.stop();
      } else {
        if (!smoke)
          skipped.push(`proftpd unavailable (${why}): loopback runs use the embedded ftp-srv server`);
        const srv = await startEmbeddedFtpServer({ root: data });
        target = {
          env: 'loopback',
          host: srv.host,
          port: srv.port,
          user: srv.user,
          password: srv.password,
          remote: '/L2',
        };
        stop = () => srv.stop();
      }
      try {
        console.error(`loopback: ${target.host}:${target.port}`);
        mirror.push(
          ...(await runTools(
            tools,
            target,
            work,
            children,
            listing,
            smoke ? 1 : Math.max(runs, 3),
            () => (smoke ? 60 : 120),
            expect,
          )),
        );
      } finally {
        await stop();
      }
    }

    // ---- (b) WAN
    let wanInfo: SuiteResult['wan'] = { rttMs: null, linkLimitS: null, skipped: null };
    const wanWhy = smoke ? 'smoke run' : opts.skipWan === true ? '--skip-wan' : wanSkipReason();
    let wanServer: BenchServer | null = null;
    if (wanWhy !== null) {
      wanInfo = { ...wanInfo, skipped: wanWhy };
      if (!smoke) skipped.push(`WAN runs: ${wanWhy}`);
    } else {
      const up = wan('up');
      wanIsUp = true;
      cleanups.push(() => {
        const r = wan('down');
        wanIsUp = false;
        if (!r.ok) console.error(`wan down: ${r.out}`);
      });
      if (!up.ok) throw new Error(`bench/wan/wan.sh up failed: ${up.out}`);
      wanServer = await startProftpd({
        root: data,
        host: WAN_HOST,
        port: WAN_PORT,
        netns: WAN_NS,
        ...(opts.tls === true ? { tls: true } : {}),
      });
      const srv = wanServer;
      cleanups.push(() => srv.stop());
      const rttMs = await tcpRttMs(WAN_HOST, WAN_PORT);
      console.error(`wan: ${WAN_HOST}:${WAN_PORT} in netns ${WAN_NS}, RTT ${rttMs.toFixed(1)} ms`);
      const capacity: LinkCapacity[] = [];
      for (const probe of CAPACITY_PROBES) {
        const c = await measureLinkCapacity(probe.streams, probe.bytesPerStream, WAN_CAPACITY_PORT);
        capacity.push(c);
        console.error(
          `wan: plain TCP, ${c.streams} stream(s): ${((c.bytesPerS * 8) / 1e6).toFixed(1)} Mbit/s ` +
            `(steady ${((c.steadyBytesPerS * 8) / 1e6).toFixed(1)}, middle 80 % ` +
            `${((c.bulkBytesPerS * 8) / 1e6).toFixed(1)}) in ${c.wallS.toFixed(2)} s`,
        );
      }
      // The link's own rate: what plain TCP gets once out of slow start (the middle 80 % of each
      // probe's bytes), the median of the probes. Not first byte to last: that counts TCP's ramp
      // on a 50 ms path (~11 % on these probes), which the tools pay too, against the link.
      const steady = median(capacity.map((c) => c.bulkBytesPerS));
      wanInfo = {
        rttMs,
        linkLimitS: expect.bytes / LINK_PAYLOAD_BYTES_PER_S,
        skipped: null,
        capacity,
        capacityLimitS: Number.isFinite(steady) ? expect.bytes / steady : null,
      };
      const target: Target = {
        env: 'wan',
        host: srv.host,
        port: srv.port,
        user: srv.user,
        password: srv.password,
        remote: '/L2',
        counter: srv,
        ...(srv.tlsCertPem === undefined ? {} : { tlsCa: srv.tlsCertPem }),
      };
      mirror.push(
        ...(await runTools(
          tools,
          target,
          work,
          children,
          listing,
          runs,
          (tool) => (tool.parallel === 1 ? 300 : 150),
          expect,
        )),
      );
    }
    addRatios(mirror, wanInfo.linkLimitS, wanInfo.capacityLimitS);

    // ---- idle poll
    const idle: IdleRun[] = [];
    if (opts.skipIdle === true || smoke) {
      if (!smoke) skipped.push('idle poll: --skip-idle');
    } else if (proftpdUnavailable() !== null) {
      skipped.push(`idle poll: ${proftpdUnavailable()}`);
    } else {
      for (const days of opts.idleDays ?? [2, 30]) {
        const dir = join(work, `idle-data-${days}d`);
        const idleFiles = await idleDataset(dir, days);
        console.error(`idle poll: ${days} days, ${idleFiles.length} files`);
        const envs: { env: 'loopback' | 'wan'; server: () => Promise<BenchServer> }[] = [
          {
            env: 'loopback',
            server: () => startProftpd({ root: dir, host: '127.0.0.1', port: 21_000 + days * 200 }),
          },
        ];
        if (wanServer !== null) {
          envs.push({
            env: 'wan',
            server: () =>
              startProftpd({ root: dir, host: WAN_HOST, port: WAN_PORT + 400 + days * 200, netns: WAN_NS }),
          });
        }
        for (const e of envs) {
          const server = await e.server();
          try {
            for (const r of await idleRadarlib(e.env, days, server, idleFiles, work, children.idle, 600)) {
              console.error(
                `  ${e.env} ${days}d ${r.tool}: ${f(r.wallS)} s, ${r.commands} commands ${r.ok ? '' : r.note}`,
              );
              idle.push(r);
            }
            if (lftp) {
              const l = await idleLftp(e.env, days, server, dir, work, e.env === 'wan' ? 150 : 120);
              console.error(
                `  ${e.env} ${days}d lftp: ${f(l.wallS)} s, ${l.commands} commands ${l.note ?? ''}`,
              );
              idle.push(l);
            }
          } finally {
            await server.stop();
          }
        }
        rmSync(dir, { recursive: true, force: true });
      }
    }

    // ---- ledger + BUFR (others' benchmarks, merged)
    const ledger =
      smoke || opts.skipLedger === true
        ? readJson(join(RESULTS, 'ledger.json'))
        : runSideBench('ledger.ts', 'ledger.json', 900, skipped);
    const bufr =
      smoke || opts.skipBufr === true
        ? readJson(join(RESULTS, 'bufr.json'))
        : runSideBench('bufr.ts', 'bufr.json', 600, skipped);
    const bufrEccodes =
      smoke || opts.skipBufr === true
        ? readJson(join(RESULTS, 'bufr-eccodes.json'))
        : runSideBench('bufr-eccodes.ts', 'bufr-eccodes.json', 600, skipped);

    const suite: SuiteResult = {
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model ?? 'unknown',
      cpus: cpus().length,
      smoke,
      dataset: { files: expect.files, bytes: expect.bytes, layout: 'tree' },
      wan: wanInfo,
      mirror,
      idle,
      ledger,
      bufr,
      bufrEccodes,
      skipped,
    };
    mkdirSync(outDir, { recursive: true });
    const write = (name: string, value: unknown): void =>
      writeFileSync(join(outDir, name), `${JSON.stringify(value, null, 2)}\n`);
    write('mirror.json', { date: suite.date, dataset: suite.dataset, wan: suite.wan, runs: mirror });
    write('idle-poll.json', { date: suite.date, runs: idle });
    write('suite.json', suite);
    const report = renderReport(suite);
    console.log(`\n${report}\n`);
    if (opts.docs ?? !smoke) await writeDocs(report);
    console.error(`wrote ${relative(process.cwd(), join(outDir, 'suite.json'))}`);
    return suite;
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (err) {
        console.error(`cleanup: ${String(err)}`);
      }
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function readJson(path: string): unknown {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as unknown) : null;
}

/** Re-renders the table and docs from bench/results/suite.json without running anything. */
async function reportOnly(): Promise<void> {
  const suite = JSON.parse(readFileSync(join(RESULTS, 'suite.json'), 'utf8')) as SuiteResult;
  for (const r of suite.idle) {
    if (r.tool.startsWith('radarlib') && r.commandsByVerb !== null) {
      r.commandsByVerb = cycleCommands(r.commandsByVerb);
      r.commands = sumCommands(r.commandsByVerb);
    }
  }
  writeFileSync(join(RESULTS, 'suite.json'), `${JSON.stringify(suite, null, 2)}\n`);
  writeFileSync(
    join(RESULTS, 'idle-poll.json'),
    `${JSON.stringify({ date: suite.date, runs: suite.idle }, null, 2)}\n`,
  );
  const report = renderReport(suite);
  console.log(report);
  await writeDocs(report);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      'report-only': { type: 'boolean', default: false },
      'skip-wan': { type: 'boolean', default: false },
      'skip-loopback': { type: 'boolean', default: false },
      'skip-idle': { type: 'boolean', default: false },
      'skip-ledger': { type: 'boolean', default: false },
      'skip-bufr': { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
      runs: { type: 'string', default: '1' },
      tools: { type: 'string' },
      'idle-days': { type: 'string' },
      volumes: { type: 'string' },
      listing: { type: 'string', default: 'walk' },
      out: { type: 'string' },
      tls: { type: 'boolean', default: false },
      'no-docs': { type: 'boolean', default: false },
    },
  });
  if (values['report-only']) await reportOnly();
  else
    await runSuite({
      smoke: values.smoke,
      skipWan: values['skip-wan'],
      skipLoopback: values['skip-loopback'],
      skipIdle: values['skip-idle'],
      skipLedger: values['skip-ledger'],
      skipBufr: values['skip-bufr'],
      runs: Number(values.runs),
      docs: !values['no-docs'] && !values.smoke,
      ...(values.tools === undefined ? {} : { tools: values.tools.split(',') }),
      ...(values['idle-days'] === undefined ? {} : { idleDays: values['idle-days'].split(',').map(Number) }),
      ...(values.volumes === undefined ? {} : { volumes: Number(values.volumes) }),
      listing: values.listing === 'list' || values.listing === 'daemon' ? values.listing : 'walk',
      ...(values.out === undefined ? {} : { outDir: values.out }),
      tls: values.tls,
    });
}
