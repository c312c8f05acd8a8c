/**
 * Ledger benchmark: does the SQLite ledger stay fast and small with a long history?
 *
 *   node --import tsx bench/ledger.ts [--rows 1000000] [--path FILE] [--rebuild] [--keep]
 *
 * 1. Build (skipped when FILE already holds the rows): `--rows` files of a radar date tree
 *    (4 radars, 10 fields per volume, one volume every 5 minutes, so 1M rows ≈ 87 days) go
 *    through `observe` in listings of 1,000 entries, exactly as the daemon records them. Then one
 *    bulk UPDATE marks them all `processed` with a local path: the documented shortcut for
 *    history, instead of 3M claim/complete/markProcessed calls that measure nothing new.
 * 2. Measure, in a fresh process (what a restarted daemon is): open the ledger, then the idle
 *    cycle, i.e. `observe` of the 300 most recent entries of one radar, all known (CPU time per
 *    call), a cycle that finds 10 new files, `counts()`, `recent()`, and the resident memory.
 *
 * Prints a table and writes bench/results/ledger.json. Target: RSS ≤ 100 MB with 1M rows,
 * idle observe in milliseconds.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import type { ListedFile } from '../src/ledger/ledger.js';
import { SqliteLedger } from '../src/ledger/sqlite.js';

const RADARS = ['RMA1', 'RMA2', 'RMA3', 'RMA4'];
const FIELDS = ['DBZH', 'DBZV', 'ZDR', 'RHOHV', 'PHIDP', 'KDP', 'VRAD', 'WRAD', 'TH', 'TV'];
const T0 = Date.UTC(2025, 7, 1);
const VOLUME_EVERY_MS = 5 * 60_000;
const BATCH = 1000;
const IDLE_ENTRIES = 300;
const IDLE_RUNS = 50;

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** The i-th file of radar `r`: volume i / FIELDS, field i % FIELDS. */
function radarFile(radar: string, i: number): ListedFile {
  const t = new Date(T0 + Math.floor(i / FIELDS.length) * VOLUME_EVERY_MS);
  const field = FIELDS[i % FIELDS.length] as string;
  const [y, mo, d, h, mi, s] = [
    t.getUTCFullYear(),
    pad(t.getUTCMonth() + 1),
    pad(t.getUTCDate()),
    pad(t.getUTCHours()),
    pad(t.getUTCMinutes()),
    pad(t.getUTCSeconds()),
  ];
  const stamp = `${y}${mo}${d}T${h}${mi}${s}Z`;
  return {
    remotePath: `/L2/${radar}/${y}/${mo}/${d}/${h}/${mi}${s}/${radar}_0315_01_${field}_${stamp}.BUFR`,
    size: 200_000 + ((i * 7919) % 50_000),
    mtime: t.getTime() + 30_000,
  };
}

function perRadar(rows: number): number {
  return Math.ceil(rows / RADARS.length);
}

async function build(path: string, rows: number): Promise<{ seconds: number; fileMb: number }> {
  rmSync(dirname(path), { recursive: true, force: true });
  const started = process.hrtime.bigint();
  const ledger = SqliteLedger.open(path);
  const n = perRadar(rows);
  let total = 0;
  for (let start = 0; start < n && total < rows; start += BATCH) {
    for (const radar of RADARS) {
      const count = Math.min(BATCH, n - start, rows - total);
      if (count <= 0) break;
      const listing = Array.from({ length: count }, (_, k) => radarFile(radar, start + k));
      const now = (listing[listing.length - 1]?.mtime ?? T0) + 3_600_000;
      const r = await ledger.observe(radar.toLowerCase(), listing, { now, minAgeMs: 60_000 });
      total += r.added;
    }
    if (start % 100_000 === 0) process.stderr.write(`  built ${total} rows\r`);
  }
  await ledger.close();
  // Bulk path for history (see header): every row downloaded and processed.
  const db = new Database(path);
  db.exec(`UPDATE files SET state = 'processed', attempts = 1, local_path = '/data/' || remote_path,
                  downloaded_at = updated_at, processed_at = updated_at`);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.stderr.write(`  built ${total} rows in ${seconds.toFixed(1)} s\n`);
  return { seconds, fileMb: statSync(path).size / 2 ** 20 };
}

function stats(values: number[]): { median: number; p95: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
  return { median: at(0.5), p95: at(0.95), max: s[s.length - 1] as number };
}

const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;

/** Runs in a fresh process: what a restarted daemon sees. Prints JSON on stdout. */
async function measure(path: string, rows: number): Promise<void> {
  const rssStart = process.memoryUsage().rss;
  const t = process.hrtime.bigint();
  const ledger = SqliteLedger.open(path);
  const openMs = Number(process.hrtime.bigint() - t) / 1e6;
  const n = perRadar(rows);
  const recent = Array.from({ length: IDLE_ENTRIES }, (_, k) => radarFile('RMA1', n - IDLE_ENTRIES + k));
  const now = (recent[recent.length - 1]?.mtime ?? T0) + 3_600_000;

  const idleCpu: number[] = [];
  const idleWall: number[] = [];
  for (let run = 0; run < IDLE_RUNS; run++) {
    const c = process.cpuUsage();
    const w = process.hrtime.bigint();
    const r = await ledger.observe('rma1', recent, { now, minAgeMs: 60_000 });
    idleWall.push(Number(process.hrtime.bigint() - w) / 1e6);
    idleCpu.push(cpuMs(process.cpuUsage(c)));
    if (r.added !== 0 || r.becameReady !== 0) throw new Error('idle cycle changed the ledger');
  }

  const fresh = Array.from({ length: 10 }, (_, k) => radarFile('RMA1', n + k));
  const c1 = process.cpuUsage();
  const added = await ledger.observe('rma1', [...recent, ...fresh], {
    now,
    minAgeMs: Number.POSITIVE_INFINITY,
  });
  const newCycleCpu = cpuMs(process.cpuUsage(c1));
  if (added.added !== 10) throw new Error(`expected 10 new rows, got ${added.added}`);

  const c2 = process.cpuUsage();
  const counts = await ledger.counts();
  counts.seen -= 10; // the 10 new files above, removed again below
  const countsCpu = cpuMs(process.cpuUsage(c2));
  const c3 = process.cpuUsage();
  await ledger.recent({ limit: 50 });
  const recentCpu = cpuMs(process.cpuUsage(c3));
  const totalRows = Object.values(counts).reduce((a, b) => a + b, 0);

  global.gc?.();
  const mem = process.memoryUsage();
  const result = {
    rows: totalRows,
    openMs,
    idleObserve: { entries: IDLE_ENTRIES, runs: IDLE_RUNS, cpuMs: stats(idleCpu), wallMs: stats(idleWall) },
    newFilesCycleCpuMs: newCycleCpu,
    countsCpuMs: countsCpu,
    recentCpuMs: recentCpu,
    rssMbAtStart: rssStart / 2 ** 20,
    rssMb: mem.rss / 2 ** 20,
    heapUsedMb: mem.heapUsed / 2 ** 20,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
  await ledger.close();
  // Leave the file as built: undo the 10 new rows.
  const db = new Database(path);
  db.prepare('DELETE FROM files WHERE id > (SELECT max(id) - 10 FROM files)').run();
  db.close();
  process.stdout.write(JSON.stringify(result));
}

/**
 * The daemon runs compiled JavaScript, not TypeScript through tsx (whose loader thread alone
 * adds ~35 MB of RSS). So the measuring process runs plain `node` on this file and the ledger
 * sources, transpiled into node_modules/.cache (where `better-sqlite3` still resolves).
 */
async function compileForPlainNode(): Promise<string> {
  // Imported here, not at the top: the measuring process must not load the compiler.
  const { default: ts } = await import('typescript');
  const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
  const outRoot = join(repo, 'node_modules', '.cache', 'radarlib-bench-ledger');
  const sources = [
    'bench/ledger.ts',
    'src/errors.ts',
    'src/ledger/ledger.ts',
    'src/ledger/common.ts',
    'src/ledger/sqlite.ts',
  ];
  for (const rel of sources) {
    const { outputText } = ts.transpileModule(readFileSync(join(repo, rel), 'utf8'), {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
      },
      fileName: rel,
    });
    const out = join(outRoot, rel.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outputText);
  }
  writeFileSync(join(outRoot, 'package.json'), '{ "type": "module" }\n');
  return join(outRoot, 'bench', 'ledger.js');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '1000000' },
      path: { type: 'string', default: join(tmpdir(), 'radarlib-bench-ledger', 'ledger.db') },
      rebuild: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      measure: { type: 'boolean', default: false },
    },
  });
  const rows = Number(values.rows);
  if (!Number.isSafeInteger(rows) || rows < IDLE_ENTRIES * RADARS.length) {
    throw new Error(`--rows must be an integer ≥ ${IDLE_ENTRIES * RADARS.length}`);
  }
  const path = values.path;
  if (values.measure) return measure(path, rows);

  let built: { seconds: number; fileMb: number } | null = null;
  let have = 0;
  if (existsSync(path) && !values.rebuild) {
    const db = new Database(path, { readonly: true });
    have = (db.prepare('SELECT count(*) FROM files').pluck().get() as number) ?? 0;
    db.close();
  }
  if (have !== rows) {
    console.error(`building a ledger of ${rows} rows at ${path}`);
    built = await build(path, rows);
  }

  const child = spawnSync(
    process.execPath,
    ['--expose-gc', await compileForPlainNode(), '--measure', '--rows', String(rows), '--path', path],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (child.status !== 0) throw new Error(`measure process exited ${child.status}`);
  const m = JSON.parse(child.stdout) as {
    rows: number;
    openMs: number;
    idleObserve: {
      cpuMs: { median: number; p95: number; max: number };
      wallMs: { median: number; p95: number };
    };
    newFilesCycleCpuMs: number;
    countsCpuMs: number;
    recentCpuMs: number;
    rssMbAtStart: number;
    rssMb: number;
    maxRssMb: number;
  };
  const fileMb = statSync(path).size / 2 ** 20;
  const table = [
    ['rows in ledger', m.rows.toLocaleString('en-US')],
    ['ledger file', `${fileMb.toFixed(0)} MB`],
    ['open (migrations checked)', `${m.openMs.toFixed(1)} ms`],
    [
      `idle observe, ${IDLE_ENTRIES} known entries (CPU)`,
      `median ${m.idleObserve.cpuMs.median.toFixed(2)} ms, p95 ${m.idleObserve.cpuMs.p95.toFixed(2)} ms`,
    ],
    [
      `idle observe (wall)`,
      `median ${m.idleObserve.wallMs.median.toFixed(2)} ms, p95 ${m.idleObserve.wallMs.p95.toFixed(2)} ms`,
    ],
    ['observe with 10 new files (CPU)', `${m.newFilesCycleCpuMs.toFixed(2)} ms`],
    ['counts() over all rows (CPU)', `${m.countsCpuMs.toFixed(1)} ms`],
    ['recent(50) (CPU)', `${m.recentCpuMs.toFixed(2)} ms`],
    ['RSS before opening', `${m.rssMbAtStart.toFixed(1)} MB`],
    ['RSS after the cycles', `${m.rssMb.toFixed(1)} MB (max ${m.maxRssMb.toFixed(1)} MB)`],
  ];
  const width = Math.max(...table.map(([k]) => (k as string).length));
  console.log(`\nSQLite ledger, node ${process.version}, ${process.platform}/${process.arch}`);
  for (const [k, v] of table) console.log(`  ${(k as string).padEnd(width)}  ${v}`);

  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'ledger.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        bench: 'ledger',
        date: new Date().toISOString(),
        node: process.version,
        platform: `${process.platform}/${process.arch}`,
        command: `node --import tsx bench/ledger.ts --rows ${rows}`,
        build: built,
        fileMb,
        ...m,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nwrote ${out}`);
  if (!values.keep && built !== null && path.startsWith(tmpdir())) {
    // Keep the built file for the next run only when asked: 1M rows is a few hundred MB.
    rmSync(dirname(path), { recursive: true, force: true });
  }
}

await main();
