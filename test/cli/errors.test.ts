/**
 * The command line on a non-terminal (a journal, a cron mail, a pipe): a bad config is one
 * readable line naming the key (`radarlib: config: sources[0].port: …`) and exit status 78; the
 * stack only with --verbose. A stop reports what it waits for until the daemon has stopped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeError, readableKeyPath } from '../../src/cli/errors.js';
import { ConfigError, InvalidArgumentError } from '../../src/errors.js';
import { startEmbeddedFtp } from '../helpers/embedded-ftp.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const CHILD = fileURLToPath(new URL('./fixtures/slow-callback-child.ts', import.meta.url));

test('key paths read as written: sources.0.port -> sources[0].port', () => {
  assert.equal(
    readableKeyPath('sources.0.port: too big; sources.12.localDir: required'),
    'sources[0].port: too big; sources[12].localDir: required',
  );
  assert.equal(readableKeyPath('pollInterval: 1.5 is not an integer'), 'pollInterval: 1.5 is not an integer');
  const err = new ConfigError('/etc/radarlib.yaml', 'sources.0.port', 'Too big:\n expected <= 65535');
  assert.equal(
    describeError(err),
    'config: sources[0].port: Too big: expected <= 65535 (/etc/radarlib.yaml)',
  );
  assert.match(
    describeError(new InvalidArgumentError('ledger', 'no path')),
    /^Invalid ledger: no path \[RADARLIB_INVALID_ARGUMENT\]$/,
  );
});

test('a bad config on a non-terminal: one line naming the key, exit 78; --verbose adds the stack', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'radarlib-cli-errors-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'bad.yaml');
  writeFileSync(
    config,
    `sources:\n  - host: ftp.example.com\n    port: 99999\n    remotePath: /L2\n    localDir: ${dir}/data\n`,
  );
  const plain = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'daemon', '--config', config], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(plain.status, 78, plain.stderr);
  assert.equal(plain.stdout, '');
  const lines = plain.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, plain.stderr);
  assert.match(lines[0] ?? '', /^radarlib: config: sources\[0\]\.port: .*65535.* \(.*bad\.yaml\)$/);

  const verbose = spawnSync(
    process.execPath,
    ['--import', 'tsx', MAIN, 'daemon', '--config', config, '--verbose'],
    { encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(verbose.status, 78);
  assert.match(verbose.stderr, /^radarlib: config: sources\[0\]\.port: /);
  assert.match(verbose.stderr, /\n\s+at .*daemon\/config/, 'no stack with --verbose');
});

test(
  'Ctrl-C while a callback runs: the daemon says what it waits for until it has stopped',
  { timeout: 60_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'radarlib-cli-stop-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'RMA1_0315_01_DBZH_20251020T152828Z.BUFR'), Buffer.alloc(4096, 1));
    const server = await startEmbeddedFtp({ root: dir });
    t.after(() => server.stop());
    const config = join(dir, 'radarlib.yaml');
    writeFileSync(
      config,
      [
        `host: ${server.host}`,
        `port: ${server.port}`,
        `username: ${server.user}`,
        'remotePath: /',
        `localDir: ${dir}/local`,
        'minAge: 0',
        'pollInterval: 1',
        'stopTimeout: 20',
      ].join('\n'),
    );
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: {
        ...process.env,
        CHILD_CONFIG: config,
        CHILD_CALLBACK_MS: '4500',
        RADARLIB_PASSWORD: server.password,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        stdout += c;
        if (stdout.includes('CALLBACK ')) resolve();
      });
      void exited.then(() => reject(new Error(`the child exited before a callback:\n${stderr}`)));
    });
    const signalledAt = Date.now();
    child.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
    const records = stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map(
        (l) =>
          JSON.parse(l) as {
            msg: string;
            time: number | string;
            transfers?: number;
            callbacks?: number;
            deadlineSeconds?: number;
          },
      );
    const waiting = records.filter((r) => r.msg.startsWith('stopping: waiting for'));
    assert.ok(waiting.length >= 2, `expected progress while the 4.5 s callback finished:\n${stderr}`);
    assert.equal(waiting[0]?.callbacks, 1);
    assert.equal(waiting[0]?.transfers, 0);
    assert.match(
      waiting[0]?.msg ?? '',
      /^stopping: waiting for 0 transfers and 1 callback, at most (1\d|20) s more/,
    );
    assert.ok(
      (waiting.at(-1)?.deadlineSeconds ?? 99) < (waiting[0]?.deadlineSeconds ?? 0),
      'the deadline does not count down',
    );
    assert.ok(records.at(-1)?.msg === 'daemon stopped', `the last record is not the stop:\n${stderr}`);
    assert.ok(Date.now() - signalledAt < 15_000);
  },
);
