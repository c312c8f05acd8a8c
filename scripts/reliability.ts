/**
 * `npm run reliability`: runs the reliability suite (test/reliability) with its full counts and
 * writes docs/RELIABILITY.md from what the tests themselves measured, so the numbers stay true.
 *
 *   node --import tsx scripts/reliability.ts [--fast] [--out FILE]
 *
 * Each test appends one JSON row per scenario to $RADARLIB_RELIABILITY_REPORT (see
 * test/reliability/helpers.ts `recordRow`); this script runs the tests one file at a time (so
 * memory and durations are not mixed between scenarios), reads the rows and the TAP results, and
 * renders the table. Exit status: 1 when a test failed (known bugs marked `todo` do not count).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResultRow } from '../test/reliability/helpers.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const fast = args.includes('--fast');
const outIndex = args.indexOf('--out');
const outFile =
  outIndex >= 0 ? path.resolve(args[outIndex + 1] ?? '') : path.join(repo, 'docs', 'RELIABILITY.md');
/** The whole run gives up after this (CI time limit). */
const RUN_LIMIT_MS = 40 * 60_000;

interface TapResult {
  name: string;
  status: 'pass' | 'fail' | 'todo' | 'skip';
  reason: string;
}

function parseTap(tap: string): TapResult[] {
  const out: TapResult[] = [];
  for (const line of tap.split('\n')) {
    const m = /^(not ok|ok) \d+ - (.*?)(?: # (TODO|SKIP)\b ?(.*))?$/.exec(line);
    if (m === null) continue;
    const [, ok, name = '', directive, reason = ''] = m;
    const status =
      directive === 'TODO' ? 'todo' : directive === 'SKIP' ? 'skip' : ok === 'ok' ? 'pass' : 'fail';
    out.push({ name, status, reason });
  }
  return out;
}

/** Security tests kept beside their modules that also write rows (test/helpers/security-row.ts). */
const SECURITY_TESTS = [
  'test/web/security.test.ts',
  'test/daemon/exec-hook.test.ts',
  'test/daemon/redaction.test.ts',
];

async function runSuite(reportFile: string): Promise<{ tap: string; code: number; ms: number }> {
  const dir = path.join(repo, 'test', 'reliability');
  const files = [
    ...readdirSync(dir)
      .filter((f) => f.endsWith('.test.ts'))
      .sort()
      .map((f) => path.join(dir, f)),
    ...SECURITY_TESTS.map((f) => path.join(repo, f)),
  ];
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-concurrency=1',
      '--test-force-exit',
      '--test-reporter=tap',
      ...files,
    ],
    {
      cwd: repo,
      env: {
        ...process.env,
        RADARLIB_RELIABILITY: fast ? '' : 'full',
        RADARLIB_RELIABILITY_REPORT: reportFile,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let tap = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    tap += chunk;
    process.stdout.write(chunk);
  });
  const limit = setTimeout(() => child.kill('SIGKILL'), RUN_LIMIT_MS);
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  clearTimeout(limit);
  return { tap, code, ms: Date.now() - started };
}

/**
 * How each known bug works and how to fix it, shown only while a `todo` test whose reason holds
 * the key still runs (so a fixed bug drops out of the report with its test's `todo` mark).
 */
const BUG_DETAILS: readonly { key: string; text: string }[] = [
  {
    key: 'progress polling',
    text:
      "**Data-stall watchdog never fires** (src/ftp/download.ts `transfer()`). basic-ftp's " +
      '`trackProgress` handler is called by a 500 ms `setInterval` (ProgressTracker `poll()`), whether ' +
      'bytes arrived or not, and the handler sets `lastProgressAt = Date.now()` each time, so ' +
      '`Date.now() - lastProgressAt > dataStallMs` is never true. A silent data connection is only ended ' +
      "by basic-ftp's own socket idle timeout, which is `commandMs`; a data connection paused by " +
      'back-pressure (a destination that stopped draining, as on a full disk) is never ended. Fix: keep ' +
      'the last byte count and refresh `lastProgressAt` only when `info.bytes` grows; in the catch path, ' +
      "do not wait for the write stream's `close` without a bound.",
  },
  {
    key: 'wraps the LocalIoError',
    text:
      '**LocalIoError reported as FtpSocketError** (src/ftp/pool.ts `use()` → src/ftp/connection.ts ' +
      '`toFtpError()`). download.ts throws `LocalIoError` (ENOSPC, EACCES...), but `use()` maps every ' +
      'error that is not an `FtpError` to `FtpSocketError`, so callers see `RADARLIB_FTP_SOCKET` and ' +
      '`syscallCode` is lost (the text still says ENOSPC), and the connection is replaced for a local ' +
      'problem. Fix: in `use()`, rethrow any `RadarlibError` that is not an `FtpError` unchanged (e.g. ' +
      '`const mapped = err instanceof RadarlibError && !(err instanceof FtpError) ? err : toFtpError(err, ctx)`).',
  },
  {
    key: 'timeoutMs 0',
    text:
      '**Timeout messages say "0 ms"** (src/ftp/connection.ts `toFtpError()`). A basic-ftp ' +
      '"Timeout (control socket)" or "(data socket)" becomes `new FtpTimeoutError(phase, 0, ...)`, so the ' +
      'message reads "timed out after 0 ms (command timeout)" / "no data for 0 ms". Fix: pass the limit ' +
      'basic-ftp was given (`server.timeouts.commandMs`, the `Client(timeout)` used for control and data ' +
      'sockets) into `toFtpError` from `pool.use()`.',
  },
  {
    key: 'reply trickling',
    text:
      '**A reply sent 1 byte/s never times out** (src/ftp/connection.ts). `commandMs` is given to basic-ftp ' +
      'as its socket idle timeout, which every received byte resets, so a server that trickles its reply ' +
      'holds the connection for as long as it likes (bounded only by the 64 KiB reply limit). Fix: a ' +
      'deadline per command (e.g. `setTimeout(commandMs)` around non-transfer commands in `pool.use()`, ' +
      'closing the client when it fires and throwing `FtpTimeoutError("command", commandMs)`).',
  },
  {
    key: 'only counts silence',
    text:
      '**A transfer sent 1 byte/s never times out** (src/ftp/download.ts). Even with the watchdog fixed, ' +
      '`dataStallMs` only detects silence. Fix: a minimum throughput (e.g. an option `minBytesPerSecond`, ' +
      'checked over each `dataStallMs` window) or a transfer deadline derived from the size, failing with ' +
      '`FtpTimeoutError("data", ...)` whose message gives the rate seen.',
  },
  {
    key: 'remoteBaseName(entry.path)',
    text:
      '**Hostile listed names are downloaded under their base name** (src/ftp/client.ts `downloadFile()`). ' +
      'A LIST entry named `../x.BUFR`, `sub/../../z.BUFR` or `/abs/x.BUFR` gets the path ' +
      '`/data/../x.BUFR` etc.; `downloadFile` takes the local name from `remoteBaseName(path)` = `x.BUFR`, ' +
      'which passes `assertSafeLocalName`, so the entry is fetched (the server resolves the path) and ' +
      'written as `x.BUFR`, racing a legitimate `x.BUFR` for that name. Nothing is written outside the ' +
      'folder, but the promise "each skipped with an error naming it" is broken and a hostile entry can ' +
      'replace a legitimate file. Fix: for a `RemoteEntry`, validate `entry.name` (`assertSafeLocalName(' +
      'remote.name, remote.path)`) and require `remoteBaseName(remote.path) === remote.name`. The daemon ' +
      'is not affected in practice (its file filter drops names with `/` silently), but it should log them.',
  },
];

const cell = (s: string | number): string => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');

function render(rows: ResultRow[], results: TapResult[], ms: number): string {
  const sum = (k: 'lost' | 'duplicated' | 'corrupt' | 'outside'): number =>
    rows.reduce((n, r) => n + (r[k] ?? 0), 0);
  const failed = results.filter((r) => r.status === 'fail');
  const todo = results.filter((r) => r.status === 'todo');
  const skipped = results.filter((r) => r.status === 'skip');
  const lines = [
    '# Reliability and security report',
    '',
    `Generated by \`npm run reliability\`${fast ? ' --fast' : ''} (scripts/reliability.ts) from test/reliability/` +
      ` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, ` +
      `${fast ? 'fast counts (as in `npm test`)' : 'full counts (`RADARLIB_RELIABILITY=full`)'}; ` +
      `the run took ${(ms / 60_000).toFixed(1)} min. Do not edit by hand: run it again.`,
    '',
    'Every number below is measured by the test that ran the scenario. Faults are injected on ' +
      'loopback only: real FTP servers (vsftpd, ProFTPD, pure-ftpd, pyftpdlib from ' +
      '`.ci/install-ftp-servers.sh`, or the embedded one) behind `test/helpers/fault-proxy.ts`, which ' +
      'relays control and data connections (it rewrites PASV/EPSV replies) and resets, stalls, ' +
      'delays or refuses them; hostile and pathological servers are scripted ' +
      '(`test/reliability/scripted-ftp.ts`).',
    '',
    `**Totals: ${sum('lost')} files lost, ${sum('duplicated')} duplicated, ${sum('corrupt')} corrupt, ` +
      `${sum('outside')} written outside the local folder** across ${rows.length} scenarios; ` +
      `tests: ${results.filter((r) => r.status === 'pass').length} passed, ${failed.length} failed, ` +
      `${todo.length} known bugs (todo), ${skipped.length} skipped.`,
    '',
    '- *cases*: files mirrored (or kills, names, outputs scanned, fuzz cases — see the row).',
    '- *lost / duplicated / corrupt*: files missing at the end / completed or committed more than ' +
      'once / whose SHA-256 differs from the source (or a legit file overwritten by a hostile entry).',
    '- *max RSS*: peak resident memory of the test process during the scenario (MB).',
    '- *longest hang*: the longest single call (a `downloadFiles` round, a daemon cycle, a kill ' +
      'round, a decode) or the time until the expected error, in ms.',
    '',
    '| scenario | injected | cases | lost | dup | corrupt | outside | max RSS MB | longest hang ms | observed |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map(
      (r) =>
        `| ${cell(r.scenario)} | ${cell(r.injected)} | ${r.cases} | ${r.lost} | ${r.duplicated} | ${r.corrupt} | ` +
        `${r.outside ?? '—'} | ${r.maxRssMb} | ${r.longestHangMs} | ${cell(r.observed)} |`,
    ),
    '',
  ];
  if (failed.length > 0) {
    lines.push('## Failed tests', '', ...failed.map((r) => `- ${r.name}`), '');
  }
  lines.push(
    '## Known bugs (tests marked `todo`: they run and fail until the bug is fixed)',
    '',
    ...(todo.length === 0 ? ['None.'] : todo.map((r) => `- **${r.name}** — ${r.reason}`)),
    '',
  );
  const details = BUG_DETAILS.filter((d) => todo.some((r) => r.reason.includes(d.key)));
  if (details.length > 0)
    lines.push('### How they fail and how to fix them', '', ...details.map((d) => `- ${d.text}`), '');
  if (skipped.length > 0) {
    lines.push('## Skipped', '', ...skipped.map((r) => `- ${r.name}: ${r.reason}`), '');
  }
  lines.push(
    '## Running it',
    '',
    '- `npm test` runs the fast part (small counts, one real server kind).',
    '- `npm run reliability` runs every scenario with full counts against every installed server ' +
      'kind and rewrites this file; `RADARLIB_RELIABILITY=full node --import tsx --test ' +
      'test/reliability/<file>.test.ts` runs one part.',
    '- Needs root for the real servers (chroot, setuid) and the disk-full tmpfs; without it those ' +
      'scenarios are skipped with the reason.',
    '',
  );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'radarlib-reliability-'));
  const reportFile = path.join(tmp, 'rows.jsonl');
  try {
    const { tap, code, ms } = await runSuite(reportFile);
    const rows = existsSync(reportFile)
      ? readFileSync(reportFile, 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as ResultRow)
      : [];
    const order = [
      'client-',
      'daemon-',
      'crash',
      'disk',
      'huge',
      'endless',
      'slow',
      'silent',
      'hostile',
      'ftps',
      'cred',
      'bufr',
      'security',
    ];
    const rank = (id: string): number => {
      const i = order.findIndex((p) => id.startsWith(p));
      return i < 0 ? order.length : i;
    };
    rows.sort((a, b) => rank(a.id) - rank(b.id) || a.id.localeCompare(b.id));
    const results = parseTap(tap);
    writeFileSync(outFile, render(rows, results, ms));
    process.stdout.write(`\nwrote ${path.relative(repo, outFile)}: ${rows.length} scenarios\n`);
    process.exitCode = code === 0 ? 0 : 1;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
