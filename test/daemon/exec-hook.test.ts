/**
 * The exec hook run for real (child processes): what environment it sees, and that hostile
 * remote names (`$(touch pwned).BUFR`, `-rf.BUFR`) stay data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveDaemonConfig } from '../../src/daemon/config.js';
import { assertSafeExecCommand, runExecHook, type ExecHookFile } from '../../src/daemon/exec-hook.js';
import { ConfigError, InvalidArgumentError } from '../../src/errors.js';
import { recordSecurityRow } from '../helpers/security-row.js';

function scratch(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'radarlib-exec-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A hook that writes its environment (JSON) and its argv to `out`. */
const DUMP =
  'require("fs").writeFileSync(process.argv[1], JSON.stringify({ env: process.env, argv: process.argv.slice(2) }))';

test("the hook's environment holds no RADARLIB_* secret, token or ledger URL unless listed", async (t) => {
  const dir = scratch(t);
  const secrets: Record<string, string> = {
    RADARLIB_PASSWORD: 'ftp-Secret-1',
    RADARLIB_HTTP_TOKEN: 'tok-Secret-2',
    RADARLIB_LEDGER_URL: 'postgres://u:db-Secret-3@db/x',
    RADARLIB_SOURCES__0__PASSWORD: 'ftp-Secret-4',
    AWS_SECRET_ACCESS_KEY: 'aws-Secret-5',
    MY_HOOK_SETTING: 'wanted',
  };
  const saved = { ...process.env };
  Object.assign(process.env, secrets);
  t.after(() => {
    for (const k of Object.keys(secrets)) delete process.env[k];
    Object.assign(process.env, saved);
  });
  const file: ExecHookFile = {
    source: 'alpha',
    remotePath: '/L2/RMA1/RMA1_0315_01_DBZH_20251020T152828Z.BUFR',
    localPath: join(dir, 'RMA1_0315_01_DBZH_20251020T152828Z.BUFR'),
    size: 1234,
  };
  const out = join(dir, 'env.json');
  await runExecHook(
    { command: [process.execPath, '-e', DUMP, out], timeout: 30, env: ['MY_HOOK_SETTING'] },
    file,
    new AbortController().signal,
  );
  const seen = (JSON.parse(readFileSync(out, 'utf8')) as { env: Record<string, string> }).env;
  for (const [k, v] of Object.entries(secrets)) {
    if (k === 'MY_HOOK_SETTING') continue;
    assert.equal(seen[k], undefined, `${k} inherited`);
    assert.ok(!JSON.stringify(seen).includes(v), `${k}'s value reached the hook`);
  }
  assert.equal(seen['MY_HOOK_SETTING'], 'wanted', 'listed names are passed on');
  assert.equal(seen['RADAR_FILE'], file.localPath);
  assert.equal(seen['RADAR_REMOTE_PATH'], file.remotePath);
  assert.equal(seen['RADAR_SOURCE'], 'alpha');
  assert.equal(seen['RADAR_SIZE'], '1234');
  assert.equal(seen['PATH'], process.env['PATH']);
  const unexpected = Object.keys(seen).filter(
    (k) => !/^(PATH|HOME|LANG|LC_ALL|LC_CTYPE|TZ|TMPDIR|USER|LOGNAME|RADAR_\w+|MY_HOOK_SETTING)$/.test(k),
  );
  // Node itself may add nothing else; anything here came from the daemon's environment.
  assert.deepEqual(unexpected, []);

  // A user who wants the password in the hook says so.
  await runExecHook(
    { command: [process.execPath, '-e', DUMP, out], timeout: 30, env: ['RADARLIB_PASSWORD'] },
    file,
    new AbortController().signal,
  );
  assert.equal(
    (JSON.parse(readFileSync(out, 'utf8')) as { env: Record<string, string> }).env['RADARLIB_PASSWORD'],
    'ftp-Secret-1',
  );
});

test('hostile remote names stay data: a shell script reads "$RADAR_FILE", argv gets one argument each', async (t) => {
  const dir = scratch(t);
  // A name cannot hold '/': the payload touches a marker in $HOME, which the hook inherits.
  const marker = `.radarlib-pwned-${process.pid}-${Date.now()}`;
  const pwned = join(homedir(), marker);
  t.after(() => rmSync(pwned, { force: true }));
  const name = `$(cd;touch ${marker}).BUFR`;
  const file: ExecHookFile = { source: 's', remotePath: `/in/${name}`, localPath: join(dir, name), size: 1 };
  writeFileSync(file.localPath, 'x');
  const log = join(dir, 'log');
  // The documented shell form: values only in the environment, quoted.
  await runExecHook(
    { command: `printf '%s\\n' "$RADAR_FILE" >> '${log}'`, timeout: 30 },
    file,
    new AbortController().signal,
  );
  assert.equal(existsSync(pwned), false, 'the name ran as code');
  assert.equal(readFileSync(log, 'utf8'), `${file.localPath}\n`);

  // Argument vector: a name starting with '-' is one argument, after the documented `--`.
  const dashed: ExecHookFile = { ...file, remotePath: '/in/-rf x.BUFR', localPath: join(dir, '-rf x.BUFR') };
  const out = join(dir, 'argv.json');
  await runExecHook(
    { command: [process.execPath, '-e', DUMP, out, '--', '{name}', '{path}'], timeout: 30 },
    dashed,
    new AbortController().signal,
  );
  const { argv } = JSON.parse(readFileSync(out, 'utf8')) as { argv: string[] };
  assert.deepEqual(argv, ['--', '-rf x.BUFR', dashed.localPath]);
  recordSecurityRow({
    id: 'exec-names',
    scenario: 'hostile remote names reaching the exec hook',
    injected: 'names $(cd;touch marker).BUFR (shell form) and -rf x.BUFR (argv form)',
    cases: 2,
    longestHangMs: 0,
    observed:
      'no command ran; each name arrived as one argument / one variable; sh -c with placeholders refused at config',
  });
});

test('a placeholder inside a shell script is refused when the config is read', () => {
  const bad = [
    ['/bin/sh', '-c', 'echo processing {name}'],
    ['bash', '-lc', 'proc {path}'],
    ['env', 'sh', '-c', 'x {remotePath}'],
    ['/usr/bin/dash', '-e', '-c', 'x "{name}"'],
  ];
  for (const command of bad) {
    assert.throws(() => assertSafeExecCommand(command), InvalidArgumentError, command.join(' '));
    assert.throws(
      () => resolveDaemonConfig({ host: 'h', localDir: '/tmp/x', exec: { command } }),
      (err: unknown) =>
        err instanceof ConfigError && err.key === 'exec.command' && /shell code/.test(err.message),
    );
  }
  for (const command of [
    ['/bin/sh', '-c', 'process -- "$RADAR_FILE"'],
    ['/usr/local/bin/process', '--', '{path}'],
    'process -- "$RADAR_FILE"',
    ['python3', 'hook.py', '{name}'],
  ]) {
    assert.doesNotThrow(() => assertSafeExecCommand(command), String(command));
  }
});
