/**
 * The README's FTP-client and BUFR examples run as a user runs them from a checkout
 * (`npx tsx examples/…`, each against its embedded default). The daemon examples run in
 * test/daemon/examples.test.ts; install.test.ts runs all of them again from the installed tarball.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

function runExample(
  name: string,
  env: NodeJS.ProcessEnv = {},
): { status: number | null; stdout: string; stderr: string } {
  const file = fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('RADARLIB_FTP_')),
  );
  return spawnSync(process.execPath, ['--import', 'tsx', file], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...clean, ...env },
  });
}

/** The same, without blocking the event loop (the SFTP server runs in this process). */
function runExampleAsync(
  name: string,
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const file = fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    }),
  );
}

test('examples/ftp-client-example.ts lists, downloads 5 of 8 files, checks and lists entries', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'radarlib-example-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = runExample('ftp-client-example.ts', { RADARLIB_EXAMPLE_DIR: dir });
  assert.equal(out.status, 0, out.stderr);
  assert.equal(out.stdout.match(/^downloaded /gm)?.length, 5, out.stdout);
  assert.match(out.stdout, /^true$/m);
  assert.equal(out.stdout.match(/^\/radar\/data\/RMA1_\S+_DBZH_\S+\.BUFR \d+ /gm)?.length, 8, out.stdout);
  assert.equal(readdirSync(dir).filter((n) => n.endsWith('.BUFR')).length, 6); // 5 + downloadFile of the last
});

test('examples/bufr-example.ts reads a volume and its bufr_to_dict shape', () => {
  const out = runExample('bufr-example.ts');
  assert.equal(out.status, 0, out.stderr);
  assert.match(out.stdout, /^RMA11 DBZH 2025-10-20T15:28:28\.000Z$/m);
  assert.match(out.stdout, /^0\.5 90 120 10800$/m);
  assert.match(out.stdout, /\[ 'data', 'info' \]/);
});

test('examples/sftp-client-example.ts downloads over SFTP, checking the host key', async (t) => {
  const { startEmbeddedSftp } = await import('../helpers/embedded-sftp.js');
  const root = mkdtempSync(join(tmpdir(), 'radarlib-example-sftp-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'radar/data'), { recursive: true });
  for (let i = 0; i < 3; i++)
    writeFileSync(join(root, `radar/data/RMA1_0315_01_DBZH_2025102${i}T000000Z.BUFR`), Buffer.alloc(5000, i));
  const server = await startEmbeddedSftp({ root });
  t.after(() => server.stop());
  const knownHosts = join(root, 'known_hosts');
  writeFileSync(knownHosts, `${server.knownHostsLine}\n`);
  const local = join(root, 'local');
  mkdirSync(local);
  const out = await runExampleAsync('sftp-client-example.ts', {
    RADARLIB_SFTP_HOST: server.host,
    RADARLIB_SFTP_PORT: String(server.port),
    RADARLIB_SFTP_USER: server.username,
    RADARLIB_SFTP_PASSWORD: server.password,
    RADARLIB_SFTP_KNOWN_HOSTS: knownHosts,
    RADARLIB_SFTP_PATH: '/radar/data',
    RADARLIB_EXAMPLE_DIR: local,
  });
  assert.equal(out.status, 0, out.stderr);
  assert.match(out.stdout, /^3 downloaded; 0 failed$/m);
  assert.match(out.stdout, /^false$/m);
  assert.equal(readdirSync(local).filter((n) => n.endsWith('.BUFR')).length, 3);
});
