/**
 * AsyncFTPClient against the embedded FTP server (a real FTP server over loopback TCP).
 * The same behaviours against vsftpd, ProFTPD, pure-ftpd and pyftpdlib: debian-servers.test.ts.
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  AbortedError,
  AsyncFTPClient,
  FtpReplyError,
  FtpSizeMismatchError,
  FtpTimeoutError,
  InvalidArgumentError,
  UnsafePathError,
} from '../../src/ftp/index.js';
import { startEmbeddedFtp, type EmbeddedFtpServer } from '../helpers/embedded-ftp.js';
import { sha256Hex } from '../helpers/hash.js';
import { UNSAFE_LOCAL_NAMES } from '../helpers/hostile-names.js';
import { loginTo } from '../helpers/ftp-login.js';

/** Deterministic file contents that differ per file (so a mixed-up download cannot pass). */
function content(seed: number, size: number): Buffer {
  const buf = Buffer.alloc(size);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    buf[i] = x >>> 24;
  }
  return buf;
}

interface Fixture {
  root: string;
  files: Map<string, Buffer>;
}

function makeServerTree(): Fixture {
  const root = mkdtempSync(join(tmpdir(), 'radarlib-ftp-root-'));
  const files = new Map<string, Buffer>();
  const add = (rel: string, data: Buffer): void => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), data);
    files.set(`/${rel}`, data);
  };
  for (let i = 0; i < 6; i++) {
    add(`radar/RMA1_0315_01_DBZH_2025102${i}T152828Z.BUFR`, content(i, 150_000 + i * 10_000));
  }
  add('radar/RMA1_0315_01_VRAD_20251020T152828Z.BUFR', content(10, 90_000));
  add('radar/RMA5_0315_02_DBZH_20251020T152828Z.BUFR', content(11, 80_000));
  add('radar/notes.txt', Buffer.from('not a volume'));
  add('radar/2025/10/20/RMA1_0315_01_ZDR_20251020T152828Z.BUFR', content(12, 70_000));
  add('radar/2025/10/21/RMA1_0315_01_ZDR_20251021T152828Z.BUFR', content(13, 70_000));
  add('radar/empty.BUFR', Buffer.alloc(0));
  return { root, files };
}

function clientFor(
  server: EmbeddedFtpServer,
  extra: Partial<ConstructorParameters<typeof AsyncFTPClient>[0] & object> = {},
): AsyncFTPClient {
  return new AsyncFTPClient({
    ...loginTo(server),
    timeouts: { connectMs: 5000, commandMs: 5000, dataStallMs: 5000 },
    ...extra,
  });
}

const outDir = (): string => mkdtempSync(join(tmpdir(), 'radarlib-ftp-out-'));

describe('AsyncFTPClient (embedded server)', () => {
  let fx: Fixture;
  let server: EmbeddedFtpServer;
  let client: AsyncFTPClient;

  before(async () => {
    fx = makeServerTree();
    server = await startEmbeddedFtp({ root: fx.root });
    client = clientFor(server);
    await client.connect();
  });
  after(async () => {
    await client.disconnect();
    await server.stop();
  });

  test('constructor keeps the original positional form and validates options', () => {
    const c = new AsyncFTPClient('ftp.example.com', 'user', 'pass');
    assert.equal(c.host, 'ftp.example.com');
    assert.equal(c.port, 21);
    assert.throws(() => new AsyncFTPClient({ host: '' }), InvalidArgumentError);
    assert.throws(() => new AsyncFTPClient({ host: 'x', maxConnections: 0 }), /maxConnections/);
  });

  test('listFiles: default pattern *.BUFR, not recursive', async () => {
    const files = await client.listFiles('/radar');
    assert.deepEqual(files, [
      '/radar/RMA1_0315_01_DBZH_20251020T152828Z.BUFR',
      '/radar/RMA1_0315_01_DBZH_20251021T152828Z.BUFR',
      '/radar/RMA1_0315_01_DBZH_20251022T152828Z.BUFR',
      '/radar/RMA1_0315_01_DBZH_20251023T152828Z.BUFR',
      '/radar/RMA1_0315_01_DBZH_20251024T152828Z.BUFR',
      '/radar/RMA1_0315_01_DBZH_20251025T152828Z.BUFR',
      '/radar/RMA1_0315_01_VRAD_20251020T152828Z.BUFR',
      '/radar/RMA5_0315_02_DBZH_20251020T152828Z.BUFR',
      '/radar/empty.BUFR',
    ]);
  });

  test('listFiles: real globs, not substrings', async () => {
    const dbzh = await client.listFiles('/radar', { pattern: 'RMA1*_DBZH_*' });
    assert.equal(dbzh.length, 6);
    assert.ok(dbzh.every((p) => /\/RMA1_0315_01_DBZH_/.test(p)));
    // A substring test would have matched "RMA5...DBZH" for "DBZH"; a glob anchored at both ends does not.
    assert.deepEqual(await client.listFiles('/radar', { pattern: 'DBZH' }), []);
    assert.deepEqual(await client.listFiles('/radar', { pattern: '*.txt' }), ['/radar/notes.txt']);
  });

  test('listFiles: recursive with *.BUFR and **/*.BUFR, and a RegExp', async () => {
    const deep = await client.listFiles('/radar', { recursive: true });
    assert.equal(deep.length, 11);
    assert.ok(deep.includes('/radar/2025/10/21/RMA1_0315_01_ZDR_20251021T152828Z.BUFR'));
    const globstar = await client.listFiles('/radar', { pattern: '2025/**/*.BUFR', recursive: true });
    assert.deepEqual(globstar, [
      '/radar/2025/10/20/RMA1_0315_01_ZDR_20251020T152828Z.BUFR',
      '/radar/2025/10/21/RMA1_0315_01_ZDR_20251021T152828Z.BUFR',
    ]);
    const re = await client.listFiles('/radar', { pattern: /_ZDR_/, recursive: true });
    assert.equal(re.length, 2);
  });

  test('listEntries gives size and modification time', async () => {
    const entries = await client.listEntries('/radar', { pattern: 'RMA5*' });
    assert.equal(entries.length, 1);
    const [e] = entries;
    assert.equal(e?.size, 80_000);
    assert.equal(e?.name, 'RMA5_0315_02_DBZH_20251020T152828Z.BUFR');
    assert.ok(e?.modifiedAt instanceof Date);
    assert.ok(Math.abs(e.modifiedAt.getTime() - Date.now()) < 10 * 60_000, 'mtime is about now');
  });

  test('listDir returns files and folders', async () => {
    const entries = await client.listDir('/radar/2025/10');
    assert.deepEqual(
      entries.map((e) => [e.name, e.type, e.path]),
      [
        ['20', 'dir', '/radar/2025/10/20'],
        ['21', 'dir', '/radar/2025/10/21'],
      ],
    );
  });

  test('downloadFile writes the exact bytes under the final name and no .part', async () => {
    const dir = outDir();
    const remote = '/radar/RMA1_0315_01_DBZH_20251020T152828Z.BUFR';
    const local = await client.downloadFile(remote, dir);
    assert.equal(local, join(dir, 'RMA1_0315_01_DBZH_20251020T152828Z.BUFR'));
    assert.equal(sha256Hex(readFileSync(local)), sha256Hex(fx.files.get(remote) as Buffer));
    assert.deepEqual(readdirSync(dir), ['RMA1_0315_01_DBZH_20251020T152828Z.BUFR']);
    const [emptyEntry] = await client.listEntries('/radar', { pattern: 'empty.BUFR' });
    assert.ok(emptyEntry);
    const empty = await client.downloadFile(emptyEntry, dir);
    assert.equal(readFileSync(empty).length, 0);
  });

  test('checkFileExists', async () => {
    assert.equal(await client.checkFileExists('/radar/RMA5_0315_02_DBZH_20251020T152828Z.BUFR'), true);
    assert.equal(await client.checkFileExists('/radar/missing.BUFR'), false);
  });

  test('a missing file: typed error naming the path, and no local file', async () => {
    const dir = outDir();
    await assert.rejects(client.downloadFile('/radar/missing.BUFR', dir), (err: unknown) => {
      assert.ok(err instanceof FtpReplyError);
      assert.equal(err.replyCode, 550);
      assert.equal(err.remotePath, '/radar/missing.BUFR');
      assert.match(err.message, /\/radar\/missing\.BUFR/);
      assert.ok(!err.message.includes(server.password), 'no password in messages');
      return true;
    });
    assert.deepEqual(
      readdirSync(dir).filter((n) => !n.endsWith('.part')),
      [],
    );
  });

  test('downloadFiles: local paths of successes, failures typed, one failure never stops the others', async () => {
    const dir = outDir();
    const entries = await client.listEntries('/radar');
    const batch = await client.downloadFiles([...entries, '/radar/missing.BUFR', '/radar/..'], dir, {
      maxConcurrent: 3,
    });
    assert.equal(batch.length, entries.length);
    for (const local of batch) {
      const remote = `/radar/${local.slice(dir.length + 1)}`;
      assert.equal(sha256Hex(readFileSync(local)), sha256Hex(fx.files.get(remote) as Buffer), remote);
    }
    const failures = batch.failures
      .map((f) => [f.remotePath, f.error.constructor.name])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    assert.deepEqual(failures, [
      ['/radar/..', 'UnsafePathError'],
      ['/radar/missing.BUFR', 'FtpReplyError'],
    ]);
  });

  test('listFiles then downloadFiles by path: a file that changed since the listing still arrives whole', async () => {
    // The listing's sizes stand in for SIZE; a file rewritten in between (other size) must be
    // detected by the byte count and fetched again with its current size.
    const grown = join(fx.root, 'radar', 'grows.BUFR');
    writeFileSync(grown, content(20, 60_000));
    try {
      const paths = await client.listFiles('/radar', { pattern: 'grows.BUFR' });
      assert.deepEqual(paths, ['/radar/grows.BUFR']);
      const now = content(21, 95_000);
      writeFileSync(grown, now);
      const dir = outDir();
      const batch = await client.downloadFiles(paths, dir);
      assert.deepEqual(batch.failures, []);
      assert.equal(sha256Hex(readFileSync(join(dir, 'grows.BUFR'))), sha256Hex(now));
      assert.deepEqual(readdirSync(dir), ['grows.BUFR']);
    } finally {
      rmSync(grown, { force: true });
    }
  });

  test('unsafe remote names never become local paths', async () => {
    const dir = outDir();
    // Asked for by path, a name holding '/' is just a deeper path: the others must be refused.
    const unsafe = UNSAFE_LOCAL_NAMES.filter((n) => !n.name.includes('/'));
    for (const bad of unsafe.map((n) => `/radar/${n.name}`)) {
      await assert.rejects(client.downloadFile(bad, dir), (err: unknown) => {
        assert.ok(err instanceof UnsafePathError, `${JSON.stringify(bad)} -> ${String(err)}`);
        assert.equal(err.remotePath, bad);
        return true;
      });
    }
    await assert.rejects(
      client.downloadFile('/radar/empty.BUFR', dir, { localName: '../escape' }),
      UnsafePathError,
    );
    await assert.rejects(
      client.downloadFile('/radar/empty.BUFR', dir, { localName: 'a\\b' }),
      UnsafePathError,
    );
    assert.deepEqual(readdirSync(dir), []);
  });

  test('a wrong expected size never produces a final file', async () => {
    const dir = outDir();
    const remote = '/radar/RMA1_0315_01_VRAD_20251020T152828Z.BUFR';
    await assert.rejects(client.downloadFile(remote, dir, { expectedSize: 90_001 }), FtpSizeMismatchError);
    assert.equal(existsSync(join(dir, 'RMA1_0315_01_VRAD_20251020T152828Z.BUFR')), false);
  });

  test('resume: a leftover .part is continued with REST, only the rest is transferred', async () => {
    const dir = outDir();
    const name = 'RMA1_0315_01_DBZH_20251023T152828Z.BUFR';
    const remote = `/radar/${name}`;
    const data = fx.files.get(remote) as Buffer;
    writeFileSync(join(dir, `${name}.part`), data.subarray(0, 100_000));
    const before = server.bytesServed.get(remote) ?? 0;
    const [entry] = await client.listEntries('/radar', { pattern: name });
    assert.ok(entry);
    // The .part was written after the remote file's last change, so its bytes are current.
    const local = await client.downloadFile(entry, dir);
    assert.equal(sha256Hex(readFileSync(local)), sha256Hex(data));
    assert.equal((server.bytesServed.get(remote) ?? 0) - before, data.length - 100_000);
    assert.equal(existsSync(`${local}.part`), false);
  });

  test('resume: a .part older than the remote file, or longer than it, is discarded', async () => {
    const dir = outDir();
    const name = 'RMA1_0315_01_DBZH_20251024T152828Z.BUFR';
    const remote = `/radar/${name}`;
    const data = fx.files.get(remote) as Buffer;
    const [entry] = await client.listEntries('/radar', { pattern: name });
    assert.ok(entry);
    const part = join(dir, `${name}.part`);
    writeFileSync(part, Buffer.alloc(50_000, 0xee)); // stale bytes from an older version
    utimesSync(part, new Date('2000-01-01'), new Date('2000-01-01'));
    assert.equal(sha256Hex(readFileSync(await client.downloadFile(entry, dir))), sha256Hex(data));
    writeFileSync(part, Buffer.alloc(data.length + 5, 0xee));
    assert.equal(sha256Hex(readFileSync(await client.downloadFile(entry, dir))), sha256Hex(data));
  });

  test('AbortSignal: already aborted, and aborted mid-operation; the client keeps working', async () => {
    await assert.rejects(client.listFiles('/radar', { signal: AbortSignal.abort() }), AbortedError);
    const slow = await startEmbeddedFtp({ root: fx.root, readDelayMs: 2000 });
    const c = clientFor(slow);
    try {
      const dir = outDir();
      const ac = new AbortController();
      setTimeout(() => ac.abort(new Error('operator cancelled')), 200);
      await assert.rejects(
        c.downloadFile('/radar/RMA1_0315_01_DBZH_20251021T152828Z.BUFR', dir, { signal: ac.signal }),
        (err: unknown) =>
          err instanceof AbortedError && (err.cause as Error).message === 'operator cancelled',
      );
      assert.equal(existsSync(join(dir, 'RMA1_0315_01_DBZH_20251021T152828Z.BUFR')), false);
      // The aborted connection was replaced: the next call works.
      assert.equal(await c.checkFileExists('/radar/empty.BUFR'), true);
    } finally {
      c.destroy();
      await slow.stop();
    }
  });

  test('a data connection that sends nothing times out with an error that says so', async () => {
    const stalling = await startEmbeddedFtp({
      root: fx.root,
      stall: (p) => p.endsWith('VRAD_20251020T152828Z.BUFR'),
    });
    const c = clientFor(stalling, { timeouts: { connectMs: 5000, commandMs: 5000, dataStallMs: 600 } });
    try {
      const dir = outDir();
      await assert.rejects(
        c.downloadFile('/radar/RMA1_0315_01_VRAD_20251020T152828Z.BUFR', dir),
        (err: unknown) => {
          assert.ok(err instanceof FtpTimeoutError, String(err));
          assert.equal(err.phase, 'data');
          assert.match(err.message, /RMA1_0315_01_VRAD_20251020T152828Z\.BUFR/);
          return true;
        },
      );
      assert.equal(existsSync(join(dir, 'RMA1_0315_01_VRAD_20251020T152828Z.BUFR')), false);
      assert.equal(await c.checkFileExists('/radar/empty.BUFR'), true);
    } finally {
      c.destroy();
      await stalling.stop();
    }
  });

  test('maxConcurrent: transfers really overlap, one connection each', async () => {
    const slow = await startEmbeddedFtp({ root: fx.root, readDelayMs: 300 });
    const c = clientFor(slow);
    try {
      const entries = (await c.listEntries('/radar')).slice(0, 6);
      const spans = new Map<string, { start: number; end: number }>();
      const startedAt = Date.now();
      for (const e of entries) spans.set(e.path, { start: startedAt, end: 0 });
      const batch = await c.downloadFiles(entries, outDir(), {
        maxConcurrent: 3,
        onFileDone: ({ remotePath }) => {
          const span = spans.get(remotePath);
          if (span) span.end = Date.now();
        },
      });
      assert.equal(batch.length, 6);
      // Each transfer waits 300 ms server-side: three at a time finish in two waves. Serial
      // transfers would finish one by one, never three within the first wave.
      const ends = [...spans.values()].map((s) => s.end - startedAt).sort((a, b) => a - b);
      const firstWave = ends.filter((t) => t < (ends[0] ?? 0) + 250).length;
      assert.ok(firstWave >= 2, `transfers overlapped (end times ${ends.join(', ')} ms)`);
      assert.equal(c.poolStats.peakBusy, 3);
      assert.ok(slow.peakConnections >= 3);
    } finally {
      await c.disconnect();
      await slow.stop();
    }
  });

  test('a 421 connection cap shrinks the pool instead of failing the batch', async () => {
    const capped = await startEmbeddedFtp({ root: fx.root, maxConnections: 2, readDelayMs: 50 });
    const c = clientFor(capped);
    try {
      const entries = await c.listEntries('/radar', { recursive: true });
      const batch = await c.downloadFiles(entries, outDir(), { maxConcurrent: 5 });
      assert.deepEqual(batch.failures, []);
      assert.equal(batch.length, entries.length);
      assert.ok(c.poolStats.limit <= 2, `pool cap lowered to ${c.poolStats.limit}`);
    } finally {
      await c.disconnect();
      await capped.stop();
    }
  });

  test('NAT: a PASV reply naming another address is connected to the control host', async () => {
    // The server announces 127.0.0.2 but only listens on 127.0.0.1: following the announced
    // address would fail; using the control host's address works.
    const natted = await startEmbeddedFtp({ root: fx.root, pasvAddress: '127.0.0.2' });
    const c = clientFor(natted, { epsv: false });
    try {
      const remote = '/radar/RMA5_0315_02_DBZH_20251020T152828Z.BUFR';
      const local = await c.downloadFile(remote, outDir());
      assert.equal(sha256Hex(readFileSync(local)), sha256Hex(fx.files.get(remote) as Buffer));
    } finally {
      await c.disconnect();
      await natted.stop();
    }
  });

  test('await using closes the connections', async () => {
    let stats;
    {
      await using c = clientFor(server);
      await c.listFiles('/radar');
      stats = c;
    }
    assert.equal(stats.poolStats.open, 0);
  });
});

test('examples/ftp-client-example.ts runs against the embedded default', async () => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const env = { ...process.env };
  delete env.RADARLIB_FTP_HOST;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'examples/ftp-client-example.ts'],
    {
      env,
      timeout: 60_000,
    },
  );
  assert.equal(stdout.match(/^downloaded /gm)?.length, 5);
  assert.match(stdout, /^true$/m, 'checkFileExists of the last listed file');
  // `await using` + listEntries: the eight volumes with size and time.
  assert.equal(stdout.match(/^\/radar\/data\/RMA1_\S+\.BUFR \d+ \d{4}-/gm)?.length, 8);
});
