/**
 * Where secrets live, they are redacted structurally: ledger URLs parsed with `URL` (a password
 * holding `@`, a `?password=` parameter), the status token, and YAML errors that would quote the
 * password's line. And text from servers reaches the operator's terminal without escape
 * sequences (`radarlib status`, `radarlib ls`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { runDaemonCommand } from '../../src/cli/commands/daemon.js';
import { formatStatus, type StatusReport } from '../../src/cli/commands/status.js';
import { loadDaemonConfig, redactUrl } from '../../src/daemon/config.js';
import { ConfigError } from '../../src/errors.js';
import { FILE_STATES, type FileRecord, type StateCounts } from '../../src/ledger/ledger.js';
import { startEmbeddedFtp } from '../helpers/embedded-ftp.js';
import { hasRawControl, TERMINAL_TRICK_NAMES } from '../helpers/hostile-names.js';
import { recordSecurityRow } from '../helpers/security-row.js';
import { textSink } from '../helpers/text-sink.js';

function scratch(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'radarlib-redact-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('ledger URLs: a password with @, ?password= and other secret parameters are redacted whole', () => {
  const cases: [string, string][] = [
    [
      'postgres://radar:p@ss-W0rd-Tail@db.example:5432/radar',
      'postgres://radar:[redacted]@db.example:5432/radar',
    ],
    [
      'postgres://radar@db.example/radar?sslmode=require&password=Qs-Secret',
      'postgres://radar@db.example/radar?sslmode=require&password=[redacted]',
    ],
    ['postgres://u:a%2Fb%3Ac@db/x?sslpassword=Zz9', 'postgres://u:[redacted]@db/x?sslpassword=[redacted]'],
    ['/var/lib/radarlib/ledger.sqlite', '/var/lib/radarlib/ledger.sqlite'],
    ['postgres://u:broken@[::1/x', 'postgres://[redacted]'],
  ];
  for (const [input, expected] of cases) assert.equal(redactUrl(input), expected, input);
});

test('--print-config hides ledger URL secrets, the FTP password and the status token', async (t) => {
  const dir = scratch(t);
  const secrets = ['p@ss-W0rd-Tail', 'Qs-Secret-Param', 'Ftp-Pa55', 'Http-Tok3n'];
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${secrets[3]}\n`);
  const config = join(dir, 'radarlib.yaml');
  const base = { host: '127.0.0.1', localDir: join(dir, 'data'), password: secrets[2] };
  for (const ledger of [
    `postgres://radar:${secrets[0]}@db.example/radar`,
    `postgres://radar@db.example/radar?password=${secrets[1]}`,
  ]) {
    writeFileSync(config, YAML.stringify({ ...base, ledger, http: { port: 0, tokenFile } }));
    const out = textSink();
    const code = await runDaemonCommand(
      { config, printConfig: true },
      { env: {}, destination: out.stream, handleSignals: false },
    );
    assert.equal(code, 0);
    for (const s of secrets) assert.ok(!out.text().includes(s), `${s} printed: ${out.text()}`);
    assert.ok(!out.text().includes('W0rd-Tail'), 'no tail of an @-password');
    const printed = JSON.parse(out.text()) as { ledger: string; http: { token: string } };
    assert.match(printed.ledger, /\[redacted\]/);
    assert.equal(printed.http.token, '[redacted]');
  }
  recordSecurityRow({
    id: 'redact-print-config',
    scenario: '--print-config with secrets in the ledger URL and a token file',
    injected: 'postgres://radar:p@ss-W0rd-Tail@db…, ?password=…, FTP password, http.tokenFile',
    cases: 2,
    longestHangMs: 0,
    observed: '0 of 4 secrets (nor the tail after an @) printed; URL parts redacted whole',
  });
});

test('a YAML syntax error names the line, never quotes it (the password line included)', async (t) => {
  const dir = scratch(t);
  const file = join(dir, 'radarlib.yaml');
  writeFileSync(file, 'host: ftp.example\npassword: "Yaml-Secr3t\nlocalDir: [oops\n');
  const err = await loadDaemonConfig({ file, env: {} }).then(
    () => assert.fail('accepted'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConfigError);
  assert.match(err.message, /not valid YAML at line \d+, column \d+/);
  assert.ok(!err.message.includes('Yaml-Secr3t'), err.message);
  assert.equal(err.cause, undefined, 'the parser error (which quotes the line) is not attached');
  // And as `radarlib daemon` logs it.
  const logs = textSink();
  await runDaemonCommand(
    { config: file, logFormat: 'json' },
    { env: {}, destination: logs.stream, handleSignals: false },
  );
  assert.match(logs.text(), /not valid YAML/);
  assert.ok(!logs.text().includes('Yaml-Secr3t'), logs.text());
  recordSecurityRow({
    id: 'redact-yaml',
    scenario: 'YAML syntax error on the password line',
    injected: 'an unterminated quoted password',
    cases: 1,
    longestHangMs: 0,
    observed: 'error and fatal log give line and column only; the password is in neither',
  });
});

test('radarlib status prints remote names and errors with control characters escaped', () => {
  const row = (remotePath: string, lastError: string | null): FileRecord =>
    ({
      id: 1,
      source: 'alpha\u001b[2J',
      remotePath,
      size: 10,
      mtime: null,
      state: 'failed',
      attempts: 3,
      lastError,
      callbackError: null,
      localPath: null,
      downloadedAt: 0,
      processedAt: null,
      updatedAt: 0,
    }) as unknown as FileRecord;
  const report: StatusReport = {
    counts: {
      ...(Object.fromEntries(FILE_STATES.map((st) => [st, 0])) as StateCounts),
      failed: TERMINAL_TRICK_NAMES.length,
    },
    total: TERMINAL_TRICK_NAMES.length,
    recent: TERMINAL_TRICK_NAMES.map((n) => row(`/L2/${n}`, null)),
    failed: TERMINAL_TRICK_NAMES.map((n) => row(`/L2/${n}`, `550 ${n}: no`)),
    callbackErrors: [],
    latency: TERMINAL_TRICK_NAMES.map((radar) => ({
      source: 's',
      radar,
      files: 1,
      p50Seconds: 1,
      p95Seconds: 1,
      maxSeconds: 1,
    })),
  };
  const text = formatStatus(report);
  assert.ok(!hasRawControl(text), JSON.stringify(text));
  assert.match(text, /RMA1_\\x1b\]0;owned\\x07\.BUFR/);
  assert.match(text, /abc\\u202eRFUB\.exe/);
  assert.match(text, /a\\\\x1b\.BUFR/, 'a literal backslash cannot fake an escape');
});

test('radarlib ls prints hostile names from a real FTP server escaped', async (t) => {
  const dir = scratch(t);
  mkdirSync(join(dir, 'data'));
  for (const n of TERMINAL_TRICK_NAMES) writeFileSync(join(dir, 'data', n), 'x');
  const server = await startEmbeddedFtp({ root: dir, user: 'radar', password: 'pw-ls' });
  t.after(() => server.stop());
  const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
  for (const long of [[], ['-l']]) {
    // Asynchronous: the FTP server runs in this process's event loop.
    const run = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', main, 'ls', `ftp://radar@127.0.0.1:${server.port}/data`, ...long],
      { env: { ...process.env, RADARLIB_FTP_PASSWORD: 'pw-ls' }, encoding: 'utf8', timeout: 60_000 },
    );
    assert.ok(!hasRawControl(run.stdout), JSON.stringify(run.stdout));
    assert.equal(run.stdout.trim().split('\n').length, TERMINAL_TRICK_NAMES.length, run.stdout);
    assert.match(run.stdout, /x\\x1b\[31mred\\x1b\[0m\.BUFR/);
  }
  recordSecurityRow({
    id: 'cli-escapes',
    scenario: 'terminal escape sequences in remote names (radarlib status, radarlib ls)',
    injected: 'names with ESC ]0;… BEL, ESC [31m, U+202E, a literal \\x1b',
    cases: TERMINAL_TRICK_NAMES.length * 3,
    longestHangMs: 0,
    observed: 'no control or bidi character printed; shown as \\xNN / \\uNNNN escapes',
  });
});
