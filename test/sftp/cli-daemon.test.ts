/**
 * `radarlib ls/get sftp://…` (the real CLI in a child process) and the daemon with
 * `protocol: 'sftp'`, against the embedded SSH/SFTP server. The daemon's full server suite
 * against OpenSSH's sshd is in openssh.test.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { FTPDaemon } from '../../src/daemon/daemon.js';
import { payload } from '../daemon/helpers/setup.js';
import { startEmbeddedSftp, writeKnownHosts, type EmbeddedSftpServer } from '../helpers/embedded-sftp.js';

const MAIN_CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const run = promisify(execFile);

const base = mkdtempSync(join(tmpdir(), 'radarlib-sftp-cli-'));
const root = join(base, 'srv');
const old = new Date(Math.floor((Date.now() - 2 * 86_400_000) / 1000) * 1000);
const put = (path: string, buf: Buffer): void => {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, buf);
  utimesSync(file, old, old);
};
for (let i = 0; i < 6; i++) put(`data/RMA1_${i}.BUFR`, payload(i, 5000 + i));
put('data/readme.txt', payload(9, 10));

let server: EmbeddedSftpServer;
let knownHosts: string;
before(async () => {
  server = await startEmbeddedSftp({ root });
  knownHosts = writeKnownHosts(server, base);
});
after(() => server.stop());

function cli(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ['--import', 'tsx', MAIN_CLI, ...args], {
    env: { ...process.env, RADARLIB_FTP_PASSWORD: server.password, SSH_AUTH_SOCK: '' },
    timeout: 60_000,
  });
}

test('radarlib ls and get with an sftp:// URL', { timeout: 120_000 }, async () => {
  const url = `sftp://${server.username}@127.0.0.1:${server.port}/data`;
  const ls = await cli(['ls', url, '--known-hosts', knownHosts, '-p', '*.BUFR', '-l']);
  const lines = ls.stdout.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 6, ls.stdout);
  assert.match(lines[0] ?? '', new RegExp(`^\\s+5000  ${old.toISOString()}  /data/RMA1_0\\.BUFR$`));

  const to = join(base, 'got');
  const get = await cli(['get', url, '--known-hosts', knownHosts, '-p', '*.BUFR', '-t', to, '-j', '3']);
  assert.match(get.stdout, /6 downloaded, 0 failed/);
  assert.deepEqual(
    readdirSync(to).sort(),
    [0, 1, 2, 3, 4, 5].map((i) => `RMA1_${i}.BUFR`),
  );
  assert.deepEqual(readFileSync(join(to, 'RMA1_3.BUFR')), payload(3, 5003));

  // No known_hosts entry: refused, with the code and the fingerprint, exit 1.
  const empty = join(base, 'empty_known_hosts');
  writeFileSync(empty, '');
  await assert.rejects(
    cli(['ls', url, '--known-hosts', empty]),
    (err: { code?: number; stderr?: string }) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr ?? '', /RADARLIB_SFTP_HOST_KEY/);
      assert.match(err.stderr ?? '', /SHA256:/);
      assert.ok(!(err.stderr ?? '').includes(server.password));
      return true;
    },
  );
});

test('daemon with protocol: sftp takes each file once, then a new version', async (t) => {
  const local = join(base, 'daemon');
  const config = {
    protocol: 'sftp' as const,
    host: server.host,
    port: server.port,
    username: server.username,
    password: server.password,
    sftp: { knownHosts },
    remotePath: '/data',
    localDir: local,
    minAge: 60,
    maxConcurrentDownloads: 3,
    backoff: { initialDelay: 0.01, maxDelay: 0.05 },
  };
  const first = new FTPDaemon(config);
  t.after(() => first.stop());
  const got = await first.runOnce();
  assert.deepEqual(
    got.map((r) => r.remotePath).sort(),
    [0, 1, 2, 3, 4, 5].map((i) => `/data/RMA1_${i}.BUFR`),
  );
  // Exact sizes and mtimes from SFTP reach the ledger.
  const r0 = got.find((r) => r.remotePath === '/data/RMA1_0.BUFR');
  assert.equal(r0?.size, 5000);
  assert.equal(r0?.mtime, old.getTime());
  assert.deepEqual(await first.runOnce(), []);
  put('data/RMA1_2.BUFR', payload(22, 7000));
  utimesSync(
    join(root, 'data/RMA1_2.BUFR'),
    new Date(old.getTime() + 60_000),
    new Date(old.getTime() + 60_000),
  );
  assert.deepEqual(
    (await first.runOnce()).map((r) => r.remotePath),
    ['/data/RMA1_2.BUFR'],
  );
  assert.deepEqual(readFileSync(join(local, 'RMA1_2.BUFR')), payload(22, 7000));
});
