/**
 * Pipeline benchmarks (issue 12): how soon a volume reaches the user's processing, and how fast a
 * backlog drains behind slow callbacks. Peers (lftp, rclone) run in the same process run, on the
 * same server and data.
 *
 *   flock /tmp/radarlib-bench.lock node --import tsx bench/latency.ts [--wan] [--duration S]
 *       [--skip-peers] [--skip-slow] [--skip-latency] [--no-docs] [--hot 3,4] [--budget 90]
 *       [--quick]
 *
 * `--quick` (what `npm run bench` runs after bench/run.ts): a 60 s window, slow callbacks at
 * pollInterval 60 only (~7 minutes with the peers). `--hot 3,4`: one more radarlib row per
 * hotInterval, `--budget 90`: per listingBudget, to choose the defaults from latency against
 * server load.
 *
 * 1. Latency: a 3-radar tree (`/L2/<RADAR>/YYYY/MM/DD/HH/MMSS/`) on proftpd; volumes (real BUFR
 *    from the encoder, 645 KB) appear at random moments for `--duration` seconds, each
 *    uploaded as real uploads are: the file grows in 5 writes 0.2 s apart, then is complete. The
 *    daemon runs with default settings (pollInterval 60, hotInterval 2, minAge 120). Measured:
 *    upload completion -> callback start, per file (p50/p95/max); FTP commands per minute (the
 *    server's command log); partial files (a callback that saw other bytes than the final file).
 *    Peers: `lftp mirror` and `rclone copy` of the tree, re-run every pollInterval (60 s): their
 *    latency is completion -> the complete file present locally (checked every 100 ms), and a
 *    partial copy is a local file with other bytes left after a run.
 * 2. Slow callbacks: 300 ready files, a 200 ms callback, callbackConcurrency 2 (bound: 30 s), for
 *    pollInterval 60 and 600: wall time until all are processed.
 *
 * `--wan` puts the server behind the emulated 50 ms RTT link (bench/wan/wan.sh, as bench/run.ts).
 * Writes bench/results/latency.json and the section between the `<!-- bench:latency -->` markers
 * of docs/PERFORMANCE.md. Every wait is bounded; the namespace is removed even on failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { encodeRadarVolume } from '../src/bufr/encoder.js';
import { makeSyntheticVolume } from '../src/bufr/synthetic.js';
import { FTPDaemon } from '../src/daemon/daemon.js';
import { quantile } from '../src/observe/latency.js';
import { radarTreeFolder } from '../src/radar/tree.js';
import { seededRandom } from '../src/util/prng.js';
import { proftpdUnavailable, startProftpd, type BenchServer } from './lib/proftpd.js';
import { has, rcloneFtpRemote, REPO, RESULTS, wan, WAN_HOST, WAN_NS } from './lib/setup.js';

const DOC = join(REPO, 'docs', 'PERFORMANCE.md');
const RADARS = ['RMA1', 'RMA2', 'RMA3'];
const POLL_S = 60;

interface Target {
  env: 'loopback' | 'wan';
  host: string;
  port: number;
  netns?: string;
}

export interface LatencyRun {
  tool: string;
  env: 'loopback' | 'wan';
  files: number;
  delivered: number;
  p50S: number | null;
  p95S: number | null;
  maxS: number | null;
  commandsPerMinute: number;
  /** The server's command log over the window, per verb (LIST/MLSD, EPSV, RETR...). */
  commandsByVerb?: Record<string, number>;
  /** Listings per minute (MLSD + LIST + NLST in the server's log). */
  listingsPerMinute?: number;
  partialFiles: number;
  note: string | null;
}

export interface SlowRun {
  env: 'loopback' | 'wan';
  pollInterval: number;
  files: number;
  processed: number;
  wallS: number;
  boundS: number;
  ratioToBound: number;
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round = (x: number | null, d = 1): number | null =>
  x === null ? null : Math.round(x * 10 ** d) / 10 ** d;

let nextPort = 23_000 + Math.floor(Math.random() * 2000) * 2;

async function serve(root: string, t: Target): Promise<BenchServer> {
  nextPort += 400;
  return startProftpd({
    root,
    host: t.host,
    port: nextPort,
    ...(t.netns === undefined ? {} : { netns: t.netns }),
  });
}

/** Makes `dir` and its files readable by proftpd's `nobody`. */
function openUp(dir: string): void {
  chmodSync(dir, 0o755);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) openUp(p);
    else chmodSync(p, 0o644);
  }
}

function mkdirOpen(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  // mkdir -p leaves parents at the process umask; make the chain walkable for `nobody`.
  for (let d = dir; d.length > 1 && existsSync(d); d = dirname(d)) {
    try {
      chmodSync(d, 0o755);
    } catch {
      break;
    }
    if (d.endsWith('/srv')) break;
  }
}

interface Volume {
  radar: string;
  /** Seconds after the start when the upload begins. */
  at: number;
  /** Set when the upload is complete (epoch ms). */
  completedAt: number | null;
  remotePath: string;
  bytes: Uint8Array;
  sha: string;
}

/** Real BUFR bytes for one volume of `radar` at `time` (one field, 360 rays × 500 gates). */
function volumeBytes(
  radar: string,
  time: Date,
  seed: number,
  shape = { nrays: 360, ngates: 500 },
): { name: string; bytes: Uint8Array } {
  const whole = new Date(Math.floor(time.getTime() / 1000) * 1000);
  const v = makeSyntheticVolume({ radar, time: whole, field: 'DBZH', ...shape, seed });
  return { name: v.fileName as string, bytes: encodeRadarVolume(v) };
}

function schedule(durationS: number, seed: number): { radar: string; at: number }[] {
  const random = seededRandom(seed);
  const perRadar = Math.max(2, Math.round(durationS / 30));
  const out: { radar: string; at: number }[] = [];
  for (const radar of RADARS)
    for (let i = 0; i < perRadar; i++) out.push({ radar, at: 5 + random() * Math.max(1, durationS - 20) });
  return out.sort((a, b) => a.at - b.at);
}

/** Uploads one volume as an FTP upload looks from outside: growing in 5 writes, then complete. */
async function upload(srv: string, v: Volume): Promise<void> {
  const file = join(srv, v.remotePath);
  mkdirOpen(dirname(file));
  const fd = openSync(file, 'w', 0o644);
  chmodSync(file, 0o644);
  const chunk = Math.ceil(v.bytes.length / 5);
  try {
    for (let i = 0; i < 5; i++) {
      writeSync(fd, v.bytes, i * chunk, Math.min(chunk, v.bytes.length - i * chunk));
      if (i < 4) await sleep(200);
    }
  } finally {
    closeSync(fd);
  }
  v.completedAt = Date.now();
}

/** The tree with one old volume per radar (history), and the volumes to upload during the run. */
function prepareTree(srv: string, durationS: number, seed: number): Volume[] {
  const start = Date.now();
  for (const [i, radar] of RADARS.entries()) {
    const t = new Date(start - 600_000);
    const { name, bytes } = volumeBytes(radar, t, 1000 + i);
    const file = join(srv, radarTreeFolder('/L2', radar, t), name);
    mkdirOpen(dirname(file));
    writeFileSync(file, bytes, { mode: 0o644 });
  }
  openUp(srv);
  return schedule(durationS, seed).map((s) => ({
    radar: s.radar,
    at: s.at,
    completedAt: null,
    remotePath: '',
    bytes: new Uint8Array(),
    sha: '',
  }));
}

/** Runs the uploads on schedule (times relative to `t0`); resolves when all are complete. */
async function runUploads(srv: string, volumes: Volume[], t0: number): Promise<void> {
  await Promise.all(
    volumes.map(async (v, i) => {
      await sleep(Math.max(0, t0 + v.at * 1000 - Date.now()));
      const time = new Date();
      const { name, bytes } = volumeBytes(v.radar, time, 2000 + i);
      v.bytes = bytes;
      v.sha = sha(bytes);
      v.remotePath = `${radarTreeFolder('/L2', v.radar, time)}/${name}`;
      await upload(srv, v);
    }),
  );
}

function summarize(
  tool: string,
  env: Target['env'],
  volumes: Volume[],
  arrived: Map<string, number>,
  verbs: Record<string, number>,
  minutes: number,
  partialFiles: number,
  note: string | null,
): LatencyRun {
  const commands = sumVerbs(verbs);
  const listings = (verbs['MLSD'] ?? 0) + (verbs['LIST'] ?? 0) + (verbs['NLST'] ?? 0);
  const lat = volumes
    .filter((v) => v.completedAt !== null && arrived.has(v.remotePath))
    .map((v) => ((arrived.get(v.remotePath) as number) - (v.completedAt as number)) / 1000)
    .sort((a, b) => a - b);
  return {
    tool,
    env,
    files: volumes.length,
    delivered: lat.length,
    p50S: lat.length === 0 ? null : round(quantile(lat, 0.5)),
    p95S: lat.length === 0 ? null : round(quantile(lat, 0.95)),
    maxS: lat.length === 0 ? null : round(lat[lat.length - 1] ?? null),
    commandsPerMinute: Math.round(commands / minutes),
    commandsByVerb: verbs,
    listingsPerMinute: Math.round(listings / minutes),
    partialFiles,
    note,
  };
}

const sumVerbs = (c: Record<string, number>): number => Object.values(c).reduce((a, b) => a + b, 0);

async function latencyRadarlib(
  t: Target,
  durationS: number,
  seed: number,
  hotInterval?: number,
  listingBudget?: number,
): Promise<LatencyRun> {
  const base = await mkdtemp(join(tmpdir(), 'radarlib-bench-latency-'));
  chmodSync(base, 0o755); // proftpd's `nobody` must reach the served folder
  const srv = join(base, 'srv');
  mkdirOpen(srv);
  const volumes = prepareTree(srv, durationS, seed);
  const server = await serve(srv, t);
  const arrived = new Map<string, number>();
  let partial = 0;
  const expected = (): Map<string, string> => new Map(volumes.map((v) => [v.remotePath, v.sha]));
  const daemon = new FTPDaemon(
    {
      host: server.host,
      port: server.port,
      username: server.user,
      password: server.password,
      remotePath: '/L2',
      layout: 'radar-tree',
      localDir: join(base, 'local'),
      localLayout: '{remoteDir}/',
      ledger: join(base, 'ledger.sqlite'),
      ...(hotInterval === undefined ? {} : { hotInterval }),
      ...(listingBudget === undefined ? {} : { listingBudget }),
    },
    {
      // RADARLIB_BENCH_LOG=warn shows the daemon's warnings on stderr.
      logger: pino({ level: process.env.RADARLIB_BENCH_LOG ?? 'silent' }, pino.destination(2)),
      onFileDownloaded: (path, info) => {
        const at = Date.now();
        const want = expected().get(info.remotePath);
        if (want === undefined) return; // a history volume
        arrived.set(info.remotePath, at);
        if (sha(readFileSync(path)) !== want) partial++;
      },
    },
  );
  // Startup: the first walk takes the history; then the measured window begins.
  await daemon.runOnce();
  const running = daemon.run();
  server.resetCommands();
  const t0 = Date.now();
  await runUploads(srv, volumes, t0);
  // Every upload complete: wait for the last callbacks (bounded: two poll intervals).
  const until = Date.now() + 2 * POLL_S * 1000;
  while (arrived.size < volumes.length && Date.now() < until) await sleep(100);
  const minutes = (Date.now() - t0) / 60_000;
  const verbs = server.commands();
  const counted = daemon.pipelineStats().sources[0]?.commandsPerMinute ?? null;
  await daemon.stop();
  await running;
  await server.stop();
  rmSync(base, { recursive: true, force: true });
  const label =
    listingBudget !== undefined
      ? `radarlib listingBudget ${listingBudget}`
      : hotInterval === undefined
        ? 'radarlib (defaults)'
        : `radarlib hotInterval ${hotInterval}`;
  const note = counted === null ? null : `daemon's own count: ${Math.round(counted)} commands/min`;
  return summarize(label, t.env, volumes, arrived, verbs, minutes, partial, note);
}

function lftpArgv(server: BenchServer, dest: string): string[] {
  const script = [
    'set ftp:ssl-allow no',
    'set net:max-retries 2',
    'set net:timeout 30',
    `mirror --parallel=5 --no-perms /L2 ${dest}`,
    'quit',
  ].join('; ');
  return [
    'lftp',
    '-u',
    `${server.user},${server.password}`,
    '-p',
    String(server.port),
    '-e',
    script,
    server.host,
  ];
}

function rcloneArgv(
  server: BenchServer,
  dest: string,
  work: string,
): { argv: string[]; env: NodeJS.ProcessEnv } {
  return {
    argv: ['rclone', 'copy', 'bench:/L2', dest, '--transfers', '5', '--ftp-concurrency', '6'],
    env: { ...process.env, ...rcloneFtpRemote(server, work) },
  };
}

function runChild(argv: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const child: ChildProcess = spawn(argv[0] as string, argv.slice(1), { env, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    child.on('error', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A peer mirroring the tree every pollInterval; arrival = the complete file present locally. */
async function latencyPeer(
  tool: 'lftp' | 'rclone',
  t: Target,
  durationS: number,
  seed: number,
): Promise<LatencyRun> {
  const base = await mkdtemp(join(tmpdir(), `radarlib-bench-latency-${tool}-`));
  chmodSync(base, 0o755);
  const srv = join(base, 'srv');
  const dest = join(base, 'local');
  mkdirOpen(srv);
  mkdirSync(dest);
  const volumes = prepareTree(srv, durationS, seed);
  const server = await serve(srv, t);
  const cmd =
    tool === 'lftp' ? { argv: lftpArgv(server, dest), env: process.env } : rcloneArgv(server, dest, base);
  await runChild(cmd.argv, cmd.env, 120_000); // the history, before the window
  server.resetCommands();
  const arrived = new Map<string, number>();
  let partial = 0;
  let done = false;
  const t0 = Date.now();
  const watcher = (async () => {
    while (!done) {
      for (const v of volumes) {
        if (v.completedAt === null || arrived.has(v.remotePath)) continue;
        const local = join(dest, relative('/L2', v.remotePath));
        if (
          existsSync(local) &&
          statSync(local).size === v.bytes.length &&
          sha(readFileSync(local)) === v.sha
        )
          arrived.set(v.remotePath, Date.now());
      }
      await sleep(100);
    }
  })();
  const uploads = runUploads(srv, volumes, t0);
  const end = t0 + (durationS + 2 * POLL_S) * 1000;
  for (let run = 0; Date.now() < end && arrived.size < volumes.length; run++) {
    const started = Date.now();
    await runChild(cmd.argv, cmd.env, POLL_S * 1000);
    // A local copy with other bytes than the complete upload: what the user's processing would see.
    for (const v of volumes) {
      const local = join(dest, relative('/L2', v.remotePath));
      if (
        v.remotePath !== '' &&
        existsSync(local) &&
        sha(readFileSync(local)) !== v.sha &&
        v.completedAt !== null
      )
        partial++;
    }
    await sleep(Math.max(0, started + POLL_S * 1000 - Date.now()));
  }
  await uploads;
  done = true;
  await watcher;
  const minutes = (Date.now() - t0) / 60_000;
  const verbs = server.commands();
  await server.stop();
  rmSync(base, { recursive: true, force: true });
  const label =
    tool === 'lftp'
      ? `lftp mirror --parallel=5 every ${POLL_S} s`
      : `rclone copy --transfers 5 every ${POLL_S} s`;
  return summarize(label, t.env, volumes, arrived, verbs, minutes, partial, null);
}

async function slowCallbacks(t: Target, pollInterval: number): Promise<SlowRun> {
  const base = await mkdtemp(join(tmpdir(), 'radarlib-bench-slow-'));
  chmodSync(base, 0o755);
  const srv = join(base, 'srv', 'data');
  mkdirOpen(srv);
  const n = 300;
  const old = new Date(Date.now() - 3_600_000);
  for (let i = 0; i < n; i++) {
    // Small but whole volumes (a truncated one would be refused by `verify: 'auto'` for ever).
    const shape = { nrays: 60, ngates: 250 };
    const { bytes } = volumeBytes('RMA1', new Date(old.getTime() + i * 1000), 3000 + i, shape);
    const file = join(srv, `RMA1_0315_01_DBZH_${String(i).padStart(4, '0')}.BUFR`);
    writeFileSync(file, bytes);
    // Uploaded an hour ago: ready on first sight (older than minAge), as a backlog after an outage.
    utimesSync(file, old, old);
  }
  openUp(join(base, 'srv'));
  const server = await serve(join(base, 'srv'), t);
  let processed = 0;
  const daemon = new FTPDaemon(
    {
      host: server.host,
      port: server.port,
      username: server.user,
      password: server.password,
      remotePath: '/data',
      localDir: join(base, 'local'),
      ledger: join(base, 'ledger.sqlite'),
      pollInterval,
      callbackConcurrency: 2,
    },
    {
      onFileDownloaded: async () => {
        await sleep(200);
        processed++;
      },
    },
  );
  const t0 = Date.now();
  const running = daemon.run();
  const bound = (n * 0.2) / 2;
  const until = t0 + 3 * bound * 1000;
  while (processed < n && Date.now() < until) await sleep(50);
  const wallS = (Date.now() - t0) / 1000;
  await daemon.stop();
  await running;
  await server.stop();
  rmSync(base, { recursive: true, force: true });
  return {
    env: t.env,
    pollInterval,
    files: n,
    processed,
    wallS: round(wallS, 2) as number,
    boundS: bound,
    ratioToBound: round(wallS / bound, 2) as number,
  };
}

function renderTables(latency: LatencyRun[], slow: SlowRun[], durationS: number): string {
  const f = (x: number | null): string => (x === null ? '–' : String(x));
  const lines = [
    `Latency (bench/latency.ts): 3-radar tree on proftpd, ${latency[0]?.files ?? 0} volumes (real BUFR, 645 KB) uploaded at random moments over ${durationS} s, each growing in 5 writes 0.2 s apart. Upload completion -> callback start (radarlib) or -> the complete file present locally (peers, checked every 100 ms).`,
    '',
    '| link | tool | files delivered | p50 s | p95 s | max s | FTP commands / min | listings / min | partial files |',
    '|---|---|---|---|---|---|---|---|---|',
    ...latency.map(
      (r) =>
        `| ${r.env} | ${r.tool} | ${r.delivered} / ${r.files} | ${f(r.p50S)} | ${f(r.p95S)} | ${f(r.maxS)} | ${r.commandsPerMinute} | ${r.listingsPerMinute ?? '–'} | ${r.partialFiles} |`,
    ),
    '',
    "FTP commands and listings per minute: the server's command log over the window (logins, listings, downloads).",
    '',
    'Slow callbacks: 300 ready files, 200 ms callback, callbackConcurrency 2 (bound 30 s).',
    '',
    '| link | pollInterval s | processed | wall s | wall / bound |',
    '|---|---|---|---|---|',
    ...slow.map(
      (r) =>
        `| ${r.env} | ${r.pollInterval} | ${r.processed} / ${r.files} | ${r.wallS} | ${r.ratioToBound} |`,
    ),
  ];
  return lines.join('\n');
}

function writeDoc(section: string): void {
  const start = '<!-- bench:latency:start (written by bench/latency.ts) -->';
  const end = '<!-- bench:latency:end -->';
  const doc = readFileSync(DOC, 'utf8');
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  const block = `${start}\n${section}\n${end}`;
  const next =
    i >= 0 && j > i ? doc.slice(0, i) + block + doc.slice(j + end.length) : `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(DOC, next);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      wan: { type: 'boolean', default: false },
      duration: { type: 'string', default: '180' },
      'skip-peers': { type: 'boolean', default: false },
      'skip-slow': { type: 'boolean', default: false },
      'skip-latency': { type: 'boolean', default: false },
      'no-docs': { type: 'boolean', default: false },
      seed: { type: 'string', default: '12' },
      // hotInterval values to compare (one radarlib row each, beside the defaults' row)
      hot: { type: 'string', default: '' },
      // listingBudget values to compare (one radarlib row each)
      budget: { type: 'string', default: '' },
      // what `npm run bench` runs: a 60 s window, the slow-callback case at pollInterval 60 only
      quick: { type: 'boolean', default: false },
    },
  });
  const durationS = values.quick ? 60 : Number(values.duration);
  const slowPolls = values.quick ? [60] : [60, 600];
  const seed = Number(values.seed);
  const reason = proftpdUnavailable();
  if (reason !== null) {
    console.log(`skipped: ${reason}`);
    return;
  }
  const targets: Target[] = [{ env: 'loopback', host: '127.0.0.1', port: 0 }];
  let wanUp = false;
  if (values.wan) {
    wanUp = wan('up').ok;
    if (wanUp) targets.splice(0, 1, { env: 'wan', host: WAN_HOST, port: 0, netns: WAN_NS });
    else console.log('WAN setup failed: running on loopback');
  }
  const cleanup = (): void => {
    if (wanUp) wan('down');
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  const latency: LatencyRun[] = [];
  const slow: SlowRun[] = [];
  try {
    for (const t of targets) {
      if (!values['skip-latency']) {
        latency.push(await latencyRadarlib(t, durationS, seed));
        console.log(JSON.stringify(latency.at(-1)));
        for (const hot of values.hot.split(',').filter((x) => x !== '')) {
          latency.push(await latencyRadarlib(t, durationS, seed, Number(hot)));
          console.log(JSON.stringify(latency.at(-1)));
        }
        for (const budget of values.budget.split(',').filter((x) => x !== '')) {
          latency.push(await latencyRadarlib(t, durationS, seed, undefined, Number(budget)));
          console.log(JSON.stringify(latency.at(-1)));
        }
        if (!values['skip-peers']) {
          for (const tool of ['lftp', 'rclone'] as const) {
            if (!has(tool)) continue;
            latency.push(await latencyPeer(tool, t, durationS, seed));
            console.log(JSON.stringify(latency.at(-1)));
          }
        }
      }
      if (!values['skip-slow']) {
        for (const poll of slowPolls) {
          slow.push(await slowCallbacks(t, poll));
          console.log(JSON.stringify(slow.at(-1)));
        }
      }
    }
  } finally {
    cleanup();
  }
  // A partial run keeps the other part of the previous results (bench/results/latency.json).
  const previousFile = join(RESULTS, 'latency.json');
  if (existsSync(previousFile)) {
    const previous = JSON.parse(readFileSync(previousFile, 'utf8')) as {
      latency: LatencyRun[];
      slow: SlowRun[];
    };
    // Rows of the links not run now are kept too (a `--wan` run keeps the loopback rows).
    const envs = new Set(targets.map((t) => t.env));
    const keep = <T extends { env: string }>(rows: T[], skipped: boolean): T[] =>
      rows.filter((r) => skipped || !envs.has(r.env as Target['env']));
    latency.unshift(...keep(previous.latency, values['skip-latency']));
    slow.unshift(...keep(previous.slow, values['skip-slow']));
  }
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(
    join(RESULTS, 'latency.json'),
    `${JSON.stringify({ durationS, seed, latency, slow }, null, 2)}\n`,
  );
  const tables = renderTables(latency, slow, durationS);
  console.log(tables);
  if (!values['no-docs']) writeDoc(tables);
}

await main();
