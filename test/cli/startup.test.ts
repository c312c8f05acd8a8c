/**
 * CLI start-up (issue 15): a command loads what it needs when it runs, so `--help`, `--version`
 * and `get` do not pay for the daemon, its config schema, the ledger drivers, the status page or
 * the BUFR decoder. Checked by recording every module the process resolves, not by timing (the
 * times are in bench/startup.ts and docs/PERFORMANCE.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedFtp } from '../helpers/embedded-ftp.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const RECORDER = fileURLToPath(new URL('./fixtures/record-imports.mjs', import.meta.url));

/** Modules only some commands need, by the path fragment that names them. */
const HEAVY = [
  'src/daemon/daemon.ts',
  'src/daemon/config.ts',
  'src/ledger/open.ts',
  'src/web/server.ts',
  'src/bufr/decoder.ts',
  'src/ftp/client.ts',
  'src/sftp/client.ts',
  'node_modules/zod/',
  'node_modules/basic-ftp/',
  'node_modules/pino/',
  'node_modules/pino-pretty/',
  'node_modules/cli-progress/',
  'node_modules/ssh2/',
  'node_modules/yaml/',
];

/** Runs the CLI with `args` and returns the heavy modules it loaded. */
function heavyLoaded(args: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'radarlib-imports-'));
  try {
    const record = join(dir, 'imports.txt');
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--import', RECORDER, MAIN, ...args], {
      env: { ...process.env, RECORD_IMPORTS: record },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const urls = readFileSync(record, 'utf8');
    assert.match(urls, /src\/cli\/main\.ts/, 'the recorder saw the CLI load');
    return HEAVY.filter((h) => urls.includes(h));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('`radarlib --version` and `radarlib get --help` load no command implementation', () => {
  assert.deepEqual(heavyLoaded(['--version']), []);
  assert.deepEqual(heavyLoaded(['get', '--help']), []);
  assert.deepEqual(heavyLoaded(['--help']), []);
});

test('a command loads its own implementation when it runs (`decode` of a missing file)', () => {
  // decode reports the missing file (exit 1 expected), after loading the decoder and nothing else
  const dir = mkdtempSync(join(tmpdir(), 'radarlib-imports-'));
  try {
    const record = join(dir, 'imports.txt');
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--import', RECORDER, MAIN, 'decode', join(dir, 'missing.BUFR')],
      { env: { ...process.env, RECORD_IMPORTS: record }, encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(run.status, 1, run.stderr);
    const urls = readFileSync(record, 'utf8');
    assert.match(urls, /src\/bufr\/radar-volume\.ts/);
    assert.deepEqual(
      HEAVY.filter((h) => urls.includes(h) && !h.startsWith('src/bufr/')),
      [],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('`radarlib get` of one file (not on a terminal) loads the FTP client and nothing of the daemon', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'radarlib-imports-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'srv'));
  writeFileSync(join(dir, 'srv', 'f.BUFR'), 'radar bytes');
  const server = await startEmbeddedFtp({ root: join(dir, 'srv') });
  t.after(() => server.stop());
  const record = join(dir, 'imports.txt');
  // Not spawnSync: the server runs in this process and must keep answering.
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      RECORDER,
      MAIN,
      'get',
      `ftp://${server.user}@${server.host}:${server.port}/f.BUFR`,
      '--to',
      join(dir, 'dest'),
    ],
    {
      env: { ...process.env, RECORD_IMPORTS: record, RADARLIB_FTP_PASSWORD: server.password },
      stdio: 'ignore',
    },
  );
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0);
  assert.equal(readFileSync(join(dir, 'dest', 'f.BUFR'), 'utf8'), 'radar bytes');
  const urls = readFileSync(record, 'utf8');
  assert.match(urls, /src\/ftp\/client\.ts/);
  const needed = new Set(['src/ftp/client.ts', 'node_modules/basic-ftp/', 'node_modules/pino/']);
  assert.deepEqual(
    HEAVY.filter((h) => urls.includes(h) && !needed.has(h)),
    [],
  );
});
