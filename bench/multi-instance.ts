/**
 * Throughput of 1, 2 and 3 daemon instances sharing one PostgreSQL ledger, on the same data set.
 *
 *   node --import tsx bench/multi-instance.ts [--files 300] [--slots 4] [--rate 1048576]
 *        [--instances 1,2,3] [--scenarios wan,loopback] [--lease 30] [--keep]
 *
 * Needs PostgreSQL (RADARLIB_TEST_PG_URL, else the cluster .ci/start-postgres.sh runs) and, for
 * the rate-limited scenario, a Debian FTP server (.ci/install-ftp-servers.sh; vsftpd first).
 *
 * Each run: a fresh ledger schema and an empty shared folder; N instances (test/multi-instance/
 * instance.ts, each its own process, `maxConcurrentDownloads` = slots) start at once against
 * the same server and data set, and the run ends when every file is `processed`.
 *
 * Scenarios:
 *   wan       the server limits every data connection to `--rate` bytes/s (vsftpd
 *             local_max_rate): a download is bound by its link, not by this machine's CPU, as
 *             when instances on separate machines mirror a remote radar network.
 *   loopback  no limit: all instances share this machine's CPUs and disk; shows the
 *             coordination cost when the box itself is the bottleneck.
 *
 * Reported per run: wall time (processes spawned → last file processed, so it includes process
 * start, connection, migration and the first listing; "first file s" is that fixed part),
 * files/s and MB/s over the wall time, MB/s from the first commit on, the speed-up over one
 * instance (wall time), each instance's share, and the ledger's commits (must equal the file
 * count). Results: bench/results/multi-instance.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { makeRadarDataset } from '../test/helpers/dataset.js';
import { dropSchema, freshSchemaName, postgresAvailable, redactPgUrl } from '../test/helpers/postgres.js';
import {
  LedgerProbe,
  countStates,
  instanceConfig,
  pickServerKind,
  readJsonLines,
  spawnInstance,
  startSourceServer,
  waitUntil,
  writeConfig,
  type Instance,
  type ServerKind,
  type SourceServer,
} from '../test/multi-instance/harness.js';
import type { InstanceEvent } from '../test/multi-instance/instance.js';

type Scenario = 'wan' | 'loopback';

interface RunResult {
  scenario: Scenario;
  instances: number;
  files: number;
  bytes: number;
  wallS: number;
  /** Spawn → first file committed: process start, connect, migrate, first listing. */
  firstFileS: number;
  filesPerS: number;
  mbPerS: number;
  /** Files each instance downloaded. */
  share: number[];
  /** Rows committed (downloaded/processed): must equal `files`. */
  committed: number;
  /** `downloaded` events over all instances: more than `files` would be a double commit. */
  downloads: number;
}

const { values: args } = parseArgs({
  options: {
    files: { type: 'string', default: '300' },
    slots: { type: 'string', default: '4' },
    rate: { type: 'string', default: String(1024 * 1024) },
    instances: { type: 'string', default: '1,2,3' },
    scenarios: { type: 'string', default: 'wan,loopback' },
    lease: { type: 'string', default: '30' },
    /** Keep each run's folder (configs, instance logs and event files) for a look afterwards. */
    keep: { type: 'boolean', default: false },
  },
});

const FILES = Number(args.files);
const SLOTS = Number(args.slots);
const RATE = Number(args.rate);
const LEASE_S = Number(args.lease);
const COUNTS = args.instances.split(',').map(Number);
const SCENARIOS = args.scenarios.split(',') as Scenario[];
const RUN_TIMEOUT_MS = 600_000;
/** A run that commits nothing for this long is broken (see the instances' log tails). */
const STALL_MS = 60_000;

if (!Number.isInteger(FILES) || FILES < 6 || FILES % 6 !== 0)
  throw new Error('--files: a multiple of 6 (6 moments per volume)');
if (!Number.isInteger(SLOTS) || SLOTS < 1) throw new Error('--slots: an integer >= 1');
if (!(RATE >= 1024)) throw new Error('--rate: bytes/s >= 1024');
if (COUNTS.some((n) => !Number.isInteger(n) || n < 1 || n > 8)) throw new Error('--instances: integers 1..8');
if (SCENARIOS.some((s) => s !== 'wan' && s !== 'loopback'))
  throw new Error('--scenarios: wan and/or loopback');

function pgVersion(url: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  return c
    .connect()
    .then(() => c.query<{ v: string }>("SELECT current_setting('server_version') AS v"))
    .then((r) => r.rows[0]?.v ?? '?')
    .finally(() => c.end());
}

async function runOnce(
  scenario: Scenario,
  n: number,
  server: SourceServer,
  pgUrl: string,
  base: string,
  bytes: number,
): Promise<RunResult> {
  const schema = freshSchemaName();
  const url = new URL(pgUrl);
  url.searchParams.set('schema', schema);
  const dir = join(base, `${scenario}-${n}`);
  const shared = join(dir, 'shared');
  const out = join(dir, 'out');
  mkdirSync(shared, { recursive: true });
  mkdirSync(out, { recursive: true });
  const configPath = join(dir, 'radarlib.json');
  writeConfig(configPath, {
    ...instanceConfig({
      server,
      remotePath: '/radar',
      localDir: shared,
      ledgerUrl: url.href,
      leaseSeconds: LEASE_S,
      pollSeconds: 0.5,
      slots: SLOTS,
      logLevel: 'warn',
    }),
  });
  const probe = await LedgerProbe.connect(pgUrl, schema);
  const instances: Instance[] = [];
  try {
    const t0 = Date.now();
    let [lastDone, lastProgress] = [0, t0];
    for (let i = 0; i < n; i++) {
      // The callback only records the file: the benchmark measures the daemon, not a hash.
      instances.push(
        spawnInstance({
          name: `i${i + 1}`,
          configPath,
          outDir: out,
          env: { MULTI_INSTANCE_CALLBACK_HASH: '0' },
        }),
      );
    }
    const rows = await waitUntil(
      `${FILES} files processed by ${n} instance(s)`,
      t0 + RUN_TIMEOUT_MS,
      async () => {
        if (instances.some((i) => !i.running)) {
          throw new Error(`an instance exited early:\n${instances.map((i) => i.logTail(10)).join('\n')}`);
        }
        const r = await probe.rows();
        const c = countStates(r);
        const done = c.downloaded + c.processed;
        if (done !== lastDone) [lastDone, lastProgress] = [done, Date.now()];
        else if (Date.now() - lastProgress > STALL_MS) {
          throw new Error(
            `no file committed for ${STALL_MS / 1000} s (${JSON.stringify(c)}):\n${instances.map((i) => i.logTail(5)).join('\n')}`,
          );
        }
        return r.length === FILES && c.processed === FILES ? r : undefined;
      },
    );
    const wallS = (Date.now() - t0) / 1000;
    await Promise.all(instances.map((i) => i.stop(15_000)));
    const events = instances.map((i) =>
      readJsonLines<InstanceEvent>(join(out, `${i.name}.events.jsonl`)).filter(
        (e) => e.type === 'downloaded',
      ),
    );
    const counts = countStates(rows);
    return {
      scenario,
      instances: n,
      files: FILES,
      bytes,
      wallS: Number(wallS.toFixed(2)),
      firstFileS: Number(((Math.min(...rows.map((r) => r.downloadedAt ?? Infinity)) - t0) / 1000).toFixed(2)),
      filesPerS: Number((FILES / wallS).toFixed(1)),
      mbPerS: Number((bytes / 1e6 / wallS).toFixed(2)),
      share: events.map((e) => e.length),
      committed: counts.downloaded + counts.processed,
      downloads: events.reduce((s, e) => s + e.length, 0),
    };
  } finally {
    await Promise.all(instances.map((i) => i.stop(2000)));
    await probe.close();
    await dropSchema(pgUrl, schema).catch(() => {});
    if (args.keep) process.stderr.write(`kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

function table(results: RunResult[]): string {
  const head = [
    'scenario',
    'instances',
    'wall s',
    'first file s',
    'files/s',
    'MB/s',
    'MB/s after first file',
    'speed-up',
    'files per instance',
    'commits',
  ];
  const lines = results.map((r) => {
    const one = results.find((x) => x.scenario === r.scenario && x.instances === 1);
    const speedup = one === undefined ? '' : `${(one.wallS / r.wallS).toFixed(2)}×`;
    return [
      r.scenario,
      String(r.instances),
      r.wallS.toFixed(1),
      r.firstFileS.toFixed(1),
      r.filesPerS.toFixed(1),
      r.mbPerS.toFixed(1),
      (r.bytes / 1e6 / (r.wallS - r.firstFileS)).toFixed(1),
      speedup,
      r.share.join(' / '),
      `${r.committed}/${r.files}`,
    ];
  });
  const rows = [head, ...lines];
  const widths = head.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [fmt(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)].join('\n');
}

async function main(): Promise<void> {
  const probe = await postgresAvailable();
  if (!probe.ok) {
    process.stderr.write(
      `PostgreSQL unreachable at ${redactPgUrl(probe.url)} (${probe.reason}): run .ci/start-postgres.sh or set RADARLIB_TEST_PG_URL\n`,
    );
    process.exitCode = 1;
    return;
  }
  const picked = pickServerKind();
  if (SCENARIOS.includes('wan') && picked.kind === 'embedded') {
    process.stderr.write(`the wan scenario needs a rate-limiting Debian FTP server: ${picked.note}\n`);
    process.exitCode = 1;
    return;
  }
  const base = mkdtempSync(join(os.tmpdir(), 'radarlib-bench-multi-'));
  const served = join(base, 'srv');
  const results: RunResult[] = [];
  try {
    const dataset = await makeRadarDataset(join(served, 'radar'), { volumes: FILES / 6, layout: 'flat' });
    const bytes = dataset.reduce((s, f) => s + f.size, 0);
    process.stderr.write(
      `data set: ${FILES} files, ${(bytes / 1e6).toFixed(1)} MB; server ${picked.kind}; ${SLOTS} downloads per instance\n`,
    );
    for (const scenario of SCENARIOS) {
      const server = await startSourceServer(picked.kind as ServerKind, {
        root: served,
        passivePorts: 1000,
        ...(scenario === 'wan' ? { rateLimit: RATE } : {}),
      });
      try {
        for (const n of COUNTS) {
          const r = await runOnce(scenario, n, server, probe.url, base, bytes);
          process.stderr.write(`${scenario} ×${n}: ${r.wallS} s, ${r.mbPerS} MB/s (${r.share.join('/')})\n`);
          results.push(r);
        }
      } finally {
        await server.stop();
      }
    }
  } finally {
    rmSync(args.keep ? served : base, { recursive: true, force: true });
  }

  const text = table(results);
  process.stdout.write(`${text}\n`);
  const command = `node --import tsx bench/multi-instance.ts ${process.argv.slice(2).join(' ')}`.trim();
  const cpu = os.cpus()[0]?.model ?? '?';
  let kernel = '?';
  try {
    kernel = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
  } catch {
    // not Linux
  }
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'multi-instance.json');
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        command,
        machine: {
          cpus: os.cpus().length,
          cpu,
          memGb: Math.round(os.totalmem() / 2 ** 30),
          kernel,
          node: process.version,
        },
        postgres: await pgVersion(probe.url),
        server: picked.kind,
        dataset: {
          files: FILES,
          bytes: results[0]?.bytes ?? 0,
          layout: 'flat',
          sizes: '70 kB–1.7 MB log-uniform',
        },
        settings: {
          maxConcurrentDownloads: SLOTS,
          wanRateBytesPerConnection: RATE,
          leaseSeconds: LEASE_S,
          pollSeconds: 0.5,
        },
        results,
        table: text.split('\n'),
      },
      null,
      2,
    )}\n`,
  );
  process.stderr.write(`wrote ${out}\n`);
}

await main();
