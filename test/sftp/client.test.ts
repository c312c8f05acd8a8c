/**
 * AsyncSFTPClient against the embedded SSH/SFTP server (ssh2's server over loopback TCP, real
 * handshake and authentication). The same behaviours against OpenSSH's sshd: openssh.test.ts.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  statSync,
  utimesSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  AbortedError,
  AsyncSFTPClient,
  FtpReplyError,
  FtpSizeMismatchError,
  FtpSocketError,
  InvalidArgumentError,
  SftpAuthError,
  SftpHostKeyError,
  SftpStatusError,
  UnsafePathError,
  sha256Fingerprint,
  type AsyncSFTPClientOptions,
} from '../../src/sftp/index.js';
import { payload } from '../daemon/helpers/setup.js';
import {
  ed25519KeyPair,
  startEmbeddedSftp,
  writeKnownHosts,
  type EmbeddedSftpServer,
} from '../helpers/embedded-sftp.js';
import { UNSAFE_LOCAL_NAMES } from '../helpers/hostile-names.js';

const sha256 = (buf: Buffer): string => createHash('sha256').update(buf).digest('hex');

const MTIME = new Date('2025-10-20T15:28:28Z');

function makeTree(): { root: string; files: Map<string, Buffer> } {
  const root = mkdtempSync(join(tmpdir(), 'radarlib-sftp-root-'));
  const files = new Map<string, Buffer>();
  const put = (path: string, buf: Buffer): void => {
    const file = join(root, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, buf);
    utimesSync(file, MTIME, MTIME);
    files.set(path, buf);
  };
  for (let i = 0; i < 40; i++)
    put(`/many/RMA1_${String(i).padStart(3, '0')}.BUFR`, payload(i, 1000 + i * 997));
  put('/L2/RMA1/2025/10/20/15/2828/RMA1_0315_01_DBZH_20251020T152828Z.BUFR', payload(100, 50_000));
  put('/L2/RMA1/2025/10/20/15/2828/RMA1_0315_01_VRAD_20251020T152828Z.BUFR', payload(101, 40_000));
  put('/L2/RMA1/2025/10/20/15/2828/notes.txt', payload(102, 10));
  put('/big/volume.BUFR', payload(103, 300_000));
  put('/empty/zero.BUFR', Buffer.alloc(0));
  put('/locked/secret.BUFR', payload(104, 500));
  chmodSync(join(root, '/locked/secret.BUFR'), 0o000);
  return { root, files };
}

const base = mkdtempSync(join(tmpdir(), 'radarlib-sftp-'));
const tree = makeTree();
let server: EmbeddedSftpServer;
let knownHosts: string;

function options(extra: Partial<AsyncSFTPClientOptions> = {}): AsyncSFTPClientOptions {
  return {
    host: server.host,
    port: server.port,
    username: server.username,
    password: server.password,
    knownHosts,
    timeouts: { connectMs: 5000, commandMs: 5000, dataStallMs: 2000 },
    ...extra,
  };
}

/** `options()` for another embedded server (its port, password and host key). */
function optionsFor(other: EmbeddedSftpServer): AsyncSFTPClientOptions {
  return options({ port: other.port, password: other.password, knownHosts: writeKnownHosts(other, base) });
}

let dirCount = 0;
const freshDir = (): string => join(base, `out-${dirCount++}`);

before(async () => {
  server = await startEmbeddedSftp({ root: tree.root });
  knownHosts = writeKnownHosts(server, base);
});
after(() => server.stop());

describe('AsyncSFTPClient: listing', () => {
  test('pattern, recursion, exact sizes and UTC mtimes (seconds)', async () => {
    await using client = new AsyncSFTPClient(options());
    const entries = await client.listEntries('/L2', { pattern: '*_DBZH_*', recursive: true });
    assert.deepEqual(entries, [
      {
        path: '/L2/RMA1/2025/10/20/15/2828/RMA1_0315_01_DBZH_20251020T152828Z.BUFR',
        name: 'RMA1_0315_01_DBZH_20251020T152828Z.BUFR',
        size: 50_000,
        modifiedAt: MTIME,
        // UTC to the second: nothing for the daemon's server clock to correct
        modifiedAtPrecisionMs: 1000,
        modifiedAtInServerZone: false,
      },
    ]);
    assert.deepEqual(await client.listFiles('/L2', { pattern: '*.BUFR' }), []); // not recursive
    assert.equal((await client.listFiles('/many')).length, 40);
    const walked: string[] = [];
    for await (const e of client.walkEntries('/', { pattern: '**/*.BUFR', recursive: true }))
      walked.push(e.path);
    assert.equal(walked.length, 40 + 2 + 1 + 1 + 1);
    assert.equal(await client.checkFileExists('/big/volume.BUFR'), true);
    assert.equal(await client.checkFileExists('/big/none.BUFR'), false);
    assert.equal(await client.checkFileExists('/big'), false);
  });

  test('a missing folder is a typed 550-like error naming the path', async () => {
    await using client = new AsyncSFTPClient(options());
    await assert.rejects(client.listEntries('/nope'), (err: unknown) => {
      assert.ok(err instanceof SftpStatusError);
      assert.ok(err instanceof FtpReplyError); // the daemon treats it as FTP's 550
      assert.equal(err.code, 'RADARLIB_SFTP_STATUS');
      assert.equal(err.replyCode, 550);
      assert.equal(err.remotePath, '/nope');
      assert.match(err.message, /^SFTP READDIR \/nope on 127\.0\.0\.1:\d+: server refused: no such file/);
      return true;
    });
  });
});

describe('AsyncSFTPClient: downloads', () => {
  test('many files in parallel over several channels, byte for byte, no .part left', async () => {
    const dir = freshDir();
    await using client = new AsyncSFTPClient(options());
    const entries = await client.listEntries('/many');
    const done: string[] = [];
    const result = await client.downloadFiles(entries, dir, {
      maxConcurrent: 8,
      onFileDone: ({ remotePath, error }) => {
        assert.equal(error, undefined);
        done.push(remotePath);
      },
    });
    assert.equal(result.length, 40);
    assert.deepEqual(result.failures, []);
    assert.equal(done.length, 40);
    for (const e of entries) {
      assert.equal(sha256(readFileSync(join(dir, e.name))), sha256(tree.files.get(e.path) as Buffer), e.path);
    }
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.endsWith('.part')),
      [],
    );
    assert.ok(client.poolStats.peakBusy > 1, `peak ${client.poolStats.peakBusy}`);
    assert.ok(client.poolStats.peakBusy <= 8);
  });

  test('several channels on one connection', async () => {
    const dir = freshDir();
    const before = server.connections();
    await using client = new AsyncSFTPClient(options({ channelsPerConnection: 4, maxConnections: 1 }));
    // Cold start: four borrowers at once must share the one connection being opened.
    const files = (await Promise.all([0, 1, 2, 3].map(() => client.listEntries('/many'))))[0] ?? [];
    const result = await client.downloadFiles(files, dir, { maxConcurrent: 4 });
    assert.equal(result.length, 40);
    assert.equal(server.connections() - before, 1);
    assert.equal(client.poolStats.peakBusy, 4);
  });

  test('a large file and an empty file', async () => {
    const dir = freshDir();
    await using client = new AsyncSFTPClient(options());
    const progress: number[] = [];
    const big = await client.downloadFile('/big/volume.BUFR', dir, { onProgress: (b) => progress.push(b) });
    assert.equal(sha256(readFileSync(big)), sha256(tree.files.get('/big/volume.BUFR') as Buffer));
    assert.equal(progress.at(-1), 300_000);
    const empty = await client.downloadFile('/empty/zero.BUFR', dir);
    assert.equal(statSync(empty).size, 0);
  });

  test('permission denied on a file: typed error, nothing written, channel kept', async () => {
    const dir = freshDir();
    await using client = new AsyncSFTPClient(options({ maxConnections: 1 }));
    await assert.rejects(client.downloadFile('/locked/secret.BUFR', dir), (err: unknown) => {
      assert.ok(err instanceof SftpStatusError);
      assert.equal(err.sftpStatus, 3);
      assert.match(err.message, /permission denied/);
      return true;
    });
    assert.deepEqual(readdirSync(dir), []);
    await client.downloadFile('/big/volume.BUFR', dir);
    assert.equal(client.poolStats.connections, 1);
  });

  test('a size other than listed is refused before any byte is kept', async () => {
    const dir = freshDir();
    await using client = new AsyncSFTPClient(options());
    await assert.rejects(
      client.downloadFile('/big/volume.BUFR', dir, { expectedSize: 1234 }),
      FtpSizeMismatchError,
    );
    assert.deepEqual(readdirSync(dir), []);
  });

  test('a file that grew or shrank since it was listed is refused, never cut', async () => {
    const dir = freshDir();
    const file = join(tree.root, '/many/RMA1_007.BUFR');
    const original = readFileSync(file);
    await using client = new AsyncSFTPClient(options());
    const [entry] = await client.listEntries('/many', { pattern: 'RMA1_007.BUFR' });
    assert.ok(entry !== undefined);
    try {
      writeFileSync(file, Buffer.concat([original, Buffer.from('more')]));
      utimesSync(file, MTIME, MTIME);
      await assert.rejects(client.downloadFile(entry, dir), FtpSizeMismatchError);
      writeFileSync(file, original.subarray(0, 100));
      utimesSync(file, MTIME, MTIME);
      await assert.rejects(client.downloadFile(entry, dir), FtpSizeMismatchError);
      assert.deepEqual(existsSync(dir) ? readdirSync(dir) : [], []);
    } finally {
      writeFileSync(file, original);
      utimesSync(file, MTIME, MTIME);
    }
  });

  test('hostile names from the server never leave the target folder', async () => {
    const hostile = await startEmbeddedSftp({
      root: tree.root,
      extraNames: ['.', ...UNSAFE_LOCAL_NAMES.map((n) => n.name)],
    });
    try {
      const dir = freshDir();
      await using client = new AsyncSFTPClient(optionsFor(hostile));
      const entries = await client.listEntries('/', { pattern: /./ });
      // `.` and `..` are the folder's own entries, never files; every other name is listed as sent.
      const listed = UNSAFE_LOCAL_NAMES.map((n) => n.name).filter((n) => n !== '..');
      assert.deepEqual(entries.map((e) => e.name).sort(), listed.sort());
      const result = await client.downloadFiles(entries, dir);
      assert.equal(result.length, 0);
      assert.equal(result.failures.length, listed.length);
      for (const f of result.failures) assert.ok(f.error instanceof UnsafePathError, f.error.message);
      assert.equal(existsSync(join(base, 'x.BUFR')), false);
      assert.ok(!existsSync(dir) || readdirSync(dir).length === 0);
      assert.ok(!hostile.requests.some((r) => r.startsWith('OPEN ')), 'nothing was even opened');
    } finally {
      await hostile.stop();
    }
  });

  test('connection dropped mid-transfer: typed error, the .part keeps the bytes, the retry resumes', async () => {
    const flaky = await startEmbeddedSftp({ root: tree.root, dropAfterBytes: 100_000 });
    try {
      const dir = freshDir();
      await using client = new AsyncSFTPClient(optionsFor(flaky));
      const [entry] = await client.listEntries('/big');
      assert.ok(entry !== undefined);
      await assert.rejects(client.downloadFile(entry, dir), FtpSocketError);
      assert.equal(existsSync(join(dir, 'volume.BUFR')), false);
      const kept = statSync(join(dir, 'volume.BUFR.part')).size;
      assert.ok(kept > 0 && kept < 300_000 && kept % 32_768 === 0, `kept ${kept}`);
      const opens = flaky.requests.length;
      const path = await client.downloadFile(entry, dir);
      assert.equal(sha256(readFileSync(path)), sha256(tree.files.get('/big/volume.BUFR') as Buffer));
      const reads = flaky.requests.slice(opens).filter((r) => r.startsWith('READ '));
      assert.equal(Math.min(...reads.map((r) => Number(r.split(' ')[2]))), kept, 'resumed from the .part');
      assert.equal(existsSync(join(dir, 'volume.BUFR.part')), false);
    } finally {
      await flaky.stop();
    }
  });

  test('a .part older than the remote file is not resumed', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    const part = join(dir, 'volume.BUFR.part');
    writeFileSync(part, Buffer.alloc(50_000, 0xff)); // bytes of an earlier version
    const old = new Date(MTIME.getTime() - 3_600_000);
    utimesSync(part, old, old);
    const seen = server.requests.length;
    await using client = new AsyncSFTPClient(options());
    const path = await client.downloadFile((await client.listEntries('/big'))[0] ?? '', dir);
    assert.equal(sha256(readFileSync(path)), sha256(tree.files.get('/big/volume.BUFR') as Buffer));
    assert.ok(server.requests.slice(seen).includes('READ /big/volume.BUFR 0'));
  });

  test('AbortSignal: an aborted download rejects with AbortedError and the client goes on', async () => {
    const dir = freshDir();
    await using client = new AsyncSFTPClient(options());
    const controller = new AbortController();
    const pending = client.downloadFile('/big/volume.BUFR', dir, {
      signal: controller.signal,
      onProgress: () => controller.abort(new Error('operator stop')),
    });
    await assert.rejects(pending, AbortedError);
    assert.equal(existsSync(join(dir, 'volume.BUFR')), false);
    await assert.rejects(client.listEntries('/many', { signal: AbortSignal.abort() }), AbortedError);
    assert.equal((await client.listFiles('/many')).length, 40);
  });
});

describe('AsyncSFTPClient: authentication and host keys', () => {
  test('wrong password: SftpAuthError without the password in it', async () => {
    const client = new AsyncSFTPClient(options({ password: 'not-the-password' }));
    await assert.rejects(client.connect(), (err: unknown) => {
      assert.ok(err instanceof SftpAuthError);
      assert.equal(err.code, 'RADARLIB_SFTP_AUTH');
      assert.deepEqual(err.methods, ['password']);
      assert.ok(!err.message.includes('not-the-password'));
      return true;
    });
    await client.disconnect();
  });

  test('private key file with passphrase; a wrong passphrase is a typed error', async () => {
    const keys = ed25519KeyPair({
      passphrase: 'open sesame',
      cipher: 'aes256-ctr',
      rounds: 2,
    });
    const keyFile = join(base, 'id_ed25519');
    writeFileSync(keyFile, keys.private, { mode: 0o600 });
    const keyed = await startEmbeddedSftp({ root: tree.root, authorizedKey: keys.public });
    const kh = writeKnownHosts(keyed, base);
    try {
      const base2 = {
        host: keyed.host,
        port: keyed.port,
        username: keyed.username,
        knownHosts: kh,
        privateKeyFile: keyFile,
      };
      await using client = new AsyncSFTPClient({ ...base2, passphrase: 'open sesame' });
      assert.equal((await client.listFiles('/many')).length, 40);
      const wrong = new AsyncSFTPClient({ ...base2, passphrase: 'wrong' });
      await assert.rejects(wrong.connect(), SftpAuthError);
      await wrong.disconnect();
    } finally {
      await keyed.stop();
    }
  });

  test('ssh-agent: the key held by the agent logs in, no key file or password given', async (t) => {
    if (
      spawnSync('ssh-agent', ['-?']).error !== undefined ||
      spawnSync('ssh-add', ['-?']).error !== undefined
    ) {
      t.skip('ssh-agent/ssh-add not installed (openssh-client)');
      return;
    }
    const keys = ed25519KeyPair();
    const keyFile = join(base, 'agent_key');
    writeFileSync(keyFile, keys.private, { mode: 0o600 });
    const sock = join(base, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    t.after(() => agent.kill());
    for (let i = 0; i < 50 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 100));
    const added = spawnSync('ssh-add', [keyFile], {
      env: { ...process.env, SSH_AUTH_SOCK: sock },
      encoding: 'utf8',
    });
    assert.equal(added.status, 0, added.stderr);
    const keyed = await startEmbeddedSftp({ root: tree.root, authorizedKey: keys.public });
    t.after(() => keyed.stop());
    const kh = writeKnownHosts(keyed, base);
    await using client = new AsyncSFTPClient({
      host: keyed.host,
      port: keyed.port,
      username: keyed.username,
      knownHosts: kh,
      agent: sock,
    });
    assert.equal((await client.listFiles('/many')).length, 40);
  });

  test('unknown host: refused with the fingerprint, before logging in', async () => {
    const empty = join(base, 'known_hosts_empty');
    writeFileSync(empty, '');
    const client = new AsyncSFTPClient(options({ knownHosts: empty }));
    await assert.rejects(client.connect(), (err: unknown) => {
      assert.ok(err instanceof SftpHostKeyError);
      assert.equal(err.problem, 'unknown');
      assert.equal(err.fingerprint, sha256Fingerprint(server.hostKey));
      assert.match(err.message, /is not in .*known_hosts_empty/);
      return true;
    });
    await client.disconnect();
  });

  test('wrong host key (another key for this host:port): refused as a mismatch', async () => {
    const other = ed25519KeyPair().parsed;
    const file = join(base, 'known_hosts_wrong');
    writeFileSync(
      file,
      `[127.0.0.1]:${server.port} ssh-ed25519 ${other.getPublicSSH().toString('base64')}\n`,
    );
    const client = new AsyncSFTPClient(options({ knownHosts: file }));
    await assert.rejects(client.connect(), (err: unknown) => {
      assert.ok(err instanceof SftpHostKeyError);
      assert.equal(err.problem, 'mismatch');
      assert.equal(err.code, 'RADARLIB_SFTP_HOST_KEY');
      return true;
    });
    await client.disconnect();
  });

  test('~/.ssh/known_hosts by default, with $HOME honoured and a hashed entry', async () => {
    const home = mkdtempSync(join(tmpdir(), 'radarlib-home-'));
    mkdirSync(join(home, '.ssh'));
    const { createHmac, randomBytes } = await import('node:crypto');
    const salt = randomBytes(20);
    const name = `[127.0.0.1]:${server.port}`;
    const hashedName = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
    writeFileSync(
      join(home, '.ssh', 'known_hosts'),
      `${hashedName} ${server.knownHostsLine.split(' ').slice(1).join(' ')}\n`,
    );
    const saved = process.env.HOME;
    process.env.HOME = home;
    try {
      const { knownHosts: _unused, ...rest } = options();
      await using client = new AsyncSFTPClient(rest);
      await client.connect();
    } finally {
      process.env.HOME = saved;
    }
  });

  test('pinned fingerprint: the right one connects, another is refused; accept-any only when asked', async () => {
    const { knownHosts: _unused, ...rest } = options();
    await using pinned = new AsyncSFTPClient({
      ...rest,
      hostKeyFingerprint: sha256Fingerprint(server.hostKey),
    });
    await pinned.connect();
    const wrong = new AsyncSFTPClient({ ...rest, hostKeyFingerprint: `SHA256:${'A'.repeat(43)}` });
    await assert.rejects(wrong.connect(), SftpHostKeyError);
    await wrong.disconnect();
    const warnings: string[] = [];
    const { pino } = await import('pino');
    const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
    await using any = new AsyncSFTPClient({ ...rest, acceptAnyHostKey: true, logger });
    await any.connect();
    assert.ok(
      warnings.some((w) => w.includes('acceptAnyHostKey')),
      warnings.join('\n'),
    );
    assert.throws(
      () =>
        new AsyncSFTPClient({
          ...rest,
          acceptAnyHostKey: true,
          hostKeyFingerprint: sha256Fingerprint(server.hostKey),
        }),
      InvalidArgumentError,
    );
  });
});
