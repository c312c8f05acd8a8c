/**
 * Start-up of the CLI beside lftp's and rclone's (issue 15): each command run as a whole process
 * the way users run it (the installed `radarlib` is `bin/radarlib.js` on the compiled `dist/`),
 * `--runs` times; the median and the fastest wall time are reported.
 *
 *   npm run build && node --import tsx bench/startup.ts [--runs 11] [--repo DIR] [--out FILE]
 *
 * Rows: `node -e 0` (the floor every Node CLI pays), `radarlib --version`, `radarlib get --help`,
 * `radarlib get` of one 1 MB file from a loopback FTP server (proftpd when installed, else the
 * embedded server), one `radarlib daemon --once` cycle that downloads it (fresh SQLite ledger),
 * a library user's `import 'radarlib'` and `import 'radarlib/ftp'` of the build, and the same
 * file with lftp and rclone, plus their own smallest commands.
 * `--repo` times another checkout's build (e.g. the commit before a change), against the same
 * server and peers. Run under `flock /tmp/radarlib-bench.lock` on a shared machine, and compare
 * ratios to the peers of the same run, not wall times across runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { debianServerAvailable, startDebianServer } from '../test/helpers/debian-servers.js';
import { startEmbeddedFtp } from '../test/helpers/embedded-ftp.js';
import { median } from './lib/stats.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const FILE_BYTES = 1_000_000;
const FILE_NAME = 'RMA1_0315_01_DBZH_20251020T152828Z.BUFR';

export interface StartupRow {
  tool: string;
  /** What the rows of one job compare: start-up alone, or the download of one file. */
  job: 'floor' | 'start' | 'get';
  what: string;
  command: string;
  medianMs: number;
  minMs: number;
  /** Median CPU time (user + system) of the process. */
  cpuMs: number;
  runs: number;
  ok: boolean;
}

interface Server {
  host: string;
  port: number;
  user: string;
  password: string;
  kind: string;
  stop(): Promise<void>;
}

async function startServer(root: string): Promise<Server> {
  if (debianServerAvailable('proftpd') === null) {
    const s = await startDebianServer('proftpd', { root });
    return { ...s, kind: 'proftpd', stop: () => s.stop() };
  }
  const s = await startEmbeddedFtp({ root });
  return {
    host: s.host,
    port: s.port,
    user: s.user,
    password: s.password,
    kind: 'embedded ftp-srv',
    stop: () => s.stop(),
  };
}

/**
 * Wall and CPU time (user + system, from bash's `times`) of each of `runs` runs of `argv`, after
 * one warm-up run that fills the page cache. CPU time is what a loaded machine distorts least.
 */
function time(
  argv: string[],
  env: NodeJS.ProcessEnv,
  runs: number,
  before?: () => void,
): { ms: number[]; cpuMs: number[]; ok: boolean } {
  const ms: number[] = [];
  const cpuMs: number[] = [];
  let ok = true;
  for (let i = 0; i <= runs; i++) {
    before?.();
    const t0 = process.hrtime.bigint();
    const r = spawnSync('bash', ['-c', '"$@" >/dev/null 2>&1; rc=$?; times; exit $rc', 'timed', ...argv], {
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) ok = false;
    // `times`: the shell's user/sys, then its children's (the timed command).
    const children = r.stdout.trim().split('\n').at(-1) ?? '';
    const secs = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
    if (i > 0) {
      ms.push(elapsed);
      cpuMs.push(((secs[0] ?? NaN) + (secs[1] ?? NaN)) * 1000);
    }
  }
  return { ms, cpuMs, ok };
}

/** A daemon config (JSON is YAML) that mirrors the served folder, flat, taking every file at once. */
function daemonConfig(server: Server): Record<string, unknown> {
  const { host, port, user: username, password } = server;
  return {
    host,
    port,
    username,
    password,
    remotePath: '/',
    layout: 'flat',
    filePattern: '*.BUFR',
    minAge: 0,
  };
}

function has(cmd: string): boolean {
  return spawnSync('bash', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export async function runStartup(opts: { runs: number; repo: string }): Promise<StartupRow[]> {
  const bin = join(opts.repo, 'bin', 'radarlib.js');
  if (!existsSync(join(opts.repo, 'dist', 'cli', 'main.js'))) {
    throw new Error(`${opts.repo}/dist is missing: run \`npm run build\` there first`);
  }
  const work = mkdtempSync(join(tmpdir(), 'radarlib-startup-'));
  const served = join(work, 'srv');
  const dest = join(work, 'dest');
  mkdirSync(served);
  writeFileSync(join(served, FILE_NAME), Buffer.alloc(FILE_BYTES, 7));
  const server = await startServer(served);
  const rows: StartupRow[] = [];
  const env: NodeJS.ProcessEnv = { ...process.env, RADARLIB_FTP_PASSWORD: server.password };
  const fresh = (): void => {
    rmSync(dest, { recursive: true, force: true });
    mkdirSync(dest);
  };
  const row = (
    tool: string,
    job: StartupRow['job'],
    what: string,
    argv: string[],
    runEnv: NodeJS.ProcessEnv = env,
    before?: () => void,
  ): void => {
    const { ms, cpuMs, ok } = time(argv, runEnv, opts.runs, before);
    const command = argv
      .map((a) =>
        a
          .replace(server.password, '***')
          .replace(/pass=[^:]*:/, 'pass=***:')
          .replace(work, '$WORK'),
      )
      .join(' ')
      .replace(opts.repo, '.');
    rows.push({
      tool,
      job,
      what,
      command,
      medianMs: median(ms),
      minMs: Math.min(...ms),
      cpuMs: median(cpuMs),
      runs: ms.length,
      ok,
    });
    console.error(
      `  ${tool.padEnd(9)} ${what.padEnd(26)} median ${median(ms).toFixed(0).padStart(5)} ms  ${ok ? 'ok' : 'FAILED'}`,
    );
  };
  try {
    console.error(`server: ${server.kind} on ${server.host}:${server.port}; ${opts.runs} runs each`);
    const url = `ftp://${server.user}@${server.host}:${server.port}/${FILE_NAME}`;
    row('node', 'floor', 'start-up floor', [process.execPath, '-e', '0']);
    row('radarlib', 'start', '--version', [process.execPath, bin, '--version']);
    row('radarlib', 'start', 'get --help', [process.execPath, bin, 'get', '--help']);
    row(
      'radarlib',
      'get',
      'get of one 1 MB file',
      [process.execPath, bin, 'get', url, '--to', dest],
      env,
      fresh,
    );
    const config = join(work, 'daemon.yaml');
    writeFileSync(
      config,
      `${JSON.stringify({ ...daemonConfig(server), localDir: dest, ledger: join(work, 'ledger.sqlite') })}\n`,
    );
    const freshLedger = (): void => {
      fresh();
      for (const f of ['', '-wal', '-shm']) rmSync(join(work, `ledger.sqlite${f}`), { force: true });
    };
    row(
      'radarlib',
      'get',
      'daemon --once, one file',
      [process.execPath, bin, 'daemon', '--config', config, '--once', '--log-level', 'warn'],
      env,
      freshLedger,
    );
    for (const entry of ['index.js', 'ftp/index.js']) {
      const href = pathToFileURL(join(opts.repo, 'dist', entry)).href;
      const what = `import 'radarlib${entry === 'index.js' ? '' : '/ftp'}'`;
      row('radarlib', 'start', what, [process.execPath, '--input-type=module', '-e', `import '${href}'`]);
    }
    if (has('lftp')) {
      row('lftp', 'start', 'help get', ['lftp', '-c', 'help get']);
      const login = ['-u', `${server.user},${server.password}`, '-p', String(server.port)];
      const script = `set ftp:ssl-allow no; get /${FILE_NAME} -o ${dest}/${FILE_NAME}; quit`;
      row('lftp', 'get', 'get of one 1 MB file', ['lftp', ...login, '-e', script, server.host], env, fresh);
    }
    if (has('rclone')) {
      const obscured = spawnSync('rclone', ['obscure', server.password], { encoding: 'utf8' }).stdout.trim();
      // An on-the-fly remote (no config file); an empty RCLONE_CONFIG keeps the user's out of it.
      const remote = `:ftp,host=${server.host},port=${server.port},user=${server.user},pass=${obscured}:`;
      const rcloneEnv = { ...process.env, RCLONE_CONFIG: '/dev/null' };
      row('rclone', 'start', 'version', ['rclone', 'version'], rcloneEnv);
      row(
        'rclone',
        'get',
        'copyto of one 1 MB file',
        ['rclone', 'copyto', `${remote}/${FILE_NAME}`, join(dest, FILE_NAME)],
        rcloneEnv,
        fresh,
      );
    }
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
  return rows;
}

/** Markdown rows; each radarlib row's ratio is to lftp's row of the same job (wall, median). */
export function startupTable(rows: readonly StartupRow[]): string {
  const lftp = (job: StartupRow['job']): number =>
    rows.find((r) => r.tool === 'lftp' && r.job === job)?.medianMs ?? NaN;
  const lines = [
    '| tool | what | median ms | fastest ms | CPU ms | × lftp (same job) | ok |',
    '| --- | --- | ---: | ---: | ---: | ---: | --- |',
    ...rows.map(
      (r) =>
        `| ${r.tool} | ${r.what} | ${r.medianMs.toFixed(0)} | ${r.minMs.toFixed(0)} | ${r.cpuMs.toFixed(0)} | ${
          r.tool === 'radarlib' ? (r.medianMs / lftp(r.job)).toFixed(1) : '–'
        } | ${r.ok ? 'yes' : 'no'} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '11' },
      repo: { type: 'string', default: REPO },
      out: { type: 'string', default: join(REPO, 'bench', 'results', 'startup.json') },
    },
  });
  const repo = resolve(values.repo);
  const rows = await runStartup({ runs: Number(values.runs), repo });
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify({ date: new Date().toISOString(), repo, rows }, null, 2)}\n`);
  process.stdout.write(startupTable(rows));
}
