/**
 * AsyncSFTPClient against Debian's OpenSSH sshd (chrooted internal-sftp, a real system user),
 * skipped with the reason when sshd is not installed or the tests do not run as root
 * (`.ci/install-sshd.sh`). The host key is checked against a known_hosts written by
 * `ssh-keyscan -H`, the user logs in with a password or a passphrase-protected key.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  AsyncSFTPClient,
  FtpSocketError,
  SftpAuthError,
  SftpHostKeyError,
  SftpStatusError,
  type AsyncSFTPClientOptions,
} from '../../src/sftp/index.js';
import { payload } from '../daemon/helpers/setup.js';
import { opensshAvailable, startOpenSsh, type OpenSshServer } from '../helpers/openssh-server.js';

const skip = opensshAvailable();
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A loopback TCP relay that counts server-to-client bytes and can cut the link after N of them. */
async function relay(
  port: number,
  cutAfter?: number,
): Promise<{ port: number; bytes: () => number; close: () => void }> {
  let bytes = 0;
  let budget = cutAfter;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((down) => {
    const up = net.connect(port, '127.0.0.1');
    sockets.add(down).add(up);
    down.pipe(up);
    up.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (budget !== undefined && (budget -= chunk.length) <= 0) {
        budget = undefined; // once
        down.destroy();
        up.destroy();
        return;
      }
      down.write(chunk);
    });
    const end = (): void => {
      down.destroy();
      up.destroy();
    };
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    bytes: () => bytes,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe('AsyncSFTPClient against OpenSSH sshd', { skip: skip ?? false }, () => {
  let sshd: OpenSshServer;
  const base = mkdtempSync(join(tmpdir(), 'radarlib-openssh-'));
  const files = new Map<string, Buffer>();
  const opts = (extra: Partial<AsyncSFTPClientOptions> = {}): AsyncSFTPClientOptions => ({
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    password: sshd.password,
    knownHosts: sshd.knownHosts,
    timeouts: { connectMs: 10_000, commandMs: 10_000, dataStallMs: 5000 },
    ...extra,
  });

  before(async () => {
    sshd = await startOpenSsh();
    const put = (path: string, buf: Buffer): void => {
      writeFileSync(join(sshd.root, path), buf);
      files.set(`/${path}`, buf);
    };
    mkdirSync(join(sshd.root, 'many'));
    for (let i = 0; i < 60; i++)
      put(`many/RMA2_${String(i).padStart(2, '0')}.BUFR`, payload(i, 2000 + 311 * i));
    mkdirSync(join(sshd.root, 'big'));
    put('big/volume.BUFR', payload(500, 2_000_000));
    mkdirSync(join(sshd.root, 'locked'));
    put('locked/secret.BUFR', payload(501, 100));
    chmodSync(join(sshd.root, 'locked/secret.BUFR'), 0o000);
  });
  after(() => sshd?.stop());

  test('password login, listing with exact sizes, many files in parallel', async () => {
    await using client = new AsyncSFTPClient(opts());
    const entries = await client.listEntries('/many');
    assert.equal(entries.length, 60);
    assert.equal(entries[1]?.size, 2311);
    assert.ok(entries.every((e) => e.modifiedAt !== null && e.modifiedAt.getUTCMilliseconds() === 0));
    const dir = join(base, 'many');
    const result = await client.downloadFiles(entries, dir, { maxConcurrent: 8 });
    assert.deepEqual(result.failures, [], sshd.logTail());
    for (const e of entries)
      assert.equal(sha256(readFileSync(join(dir, e.name))), sha256(files.get(e.path) as Buffer));
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.endsWith('.part')),
      [],
    );
  });

  test('key with passphrase; wrong password; wrong host key', async () => {
    await using keyed = new AsyncSFTPClient({
      ...opts(),
      password: undefined,
      privateKeyFile: sshd.privateKeyFile,
      passphrase: sshd.passphrase,
    });
    assert.equal(await keyed.checkFileExists('/big/volume.BUFR'), true);

    const wrong = new AsyncSFTPClient(opts({ password: 'wrong-password' }));
    await assert.rejects(wrong.connect(), SftpAuthError);
    await wrong.disconnect();

    const other = join(base, 'known_hosts_other');
    // The key of another server under this server's name.
    const line = readFileSync(sshd.knownHosts, 'utf8').split('\n')[0] ?? '';
    const otherKey = 'AAAAC3NzaC1lZDI1NTE5AAAAIA' + 'B'.repeat(42) + '8';
    writeFileSync(other, `[127.0.0.1]:${sshd.port} ssh-ed25519 ${otherKey}\n`);
    assert.ok(line.startsWith('|1|'), 'ssh-keyscan -H wrote a hashed entry');
    const spoofed = new AsyncSFTPClient(opts({ knownHosts: other }));
    await assert.rejects(
      spoofed.connect(),
      (err: unknown) => err instanceof SftpHostKeyError && err.problem === 'mismatch',
    );
    await spoofed.disconnect();
  });

  test('permission denied on a file: typed, nothing written', async () => {
    await using client = new AsyncSFTPClient(opts());
    const dir = join(base, 'locked');
    await assert.rejects(
      client.downloadFile('/locked/secret.BUFR', dir),
      (err: unknown) => err instanceof SftpStatusError && err.sftpStatus === 3,
    );
    assert.deepEqual(readdirSync(dir), []);
  });

  test('connection dropped mid-transfer, then resumed from the .part', async () => {
    const cut = await relay(sshd.port, 600_000);
    const dir = join(base, 'resume');
    try {
      const client = new AsyncSFTPClient(
        opts({ port: cut.port, knownHosts: undefined, acceptAnyHostKey: true }),
      );
      await assert.rejects(client.downloadFile('/big/volume.BUFR', dir), FtpSocketError);
      client.destroy();
      const kept = statSync(join(dir, 'volume.BUFR.part')).size;
      assert.ok(kept > 0 && kept < 2_000_000, `kept ${kept}`);
      assert.equal(existsSync(join(dir, 'volume.BUFR')), false);
      const counted = await relay(sshd.port);
      try {
        await using again = new AsyncSFTPClient(
          opts({ port: counted.port, knownHosts: undefined, acceptAnyHostKey: true }),
        );
        const path = await again.downloadFile('/big/volume.BUFR', dir);
        assert.equal(sha256(readFileSync(path)), sha256(files.get('/big/volume.BUFR') as Buffer));
        // Only the missing bytes crossed the link the second time (plus SSH overhead).
        assert.ok(
          counted.bytes() < 2_000_000 - kept + 200_000,
          `${counted.bytes()} bytes for ${2_000_000 - kept}`,
        );
      } finally {
        counted.close();
      }
    } finally {
      cut.close();
    }
  });
});
