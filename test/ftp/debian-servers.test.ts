/**
 * AsyncFTPClient against the real Debian FTP servers (vsftpd, proftpd, pure-ftpd, pyftpdlib) on
 * loopback. Each server kind is one suite, skipped with the reason when it is not installed
 * (`.ci/install-ftp-servers.sh` installs all four). Every suite starts its main server once and a
 * few extra instances for the cases that need another configuration (per-IP cap, wrong PASV
 * address, mandatory FTPS, a speed limit).
 *
 * The "server harness" tests talk to the servers with basic-ftp directly, so when a client test
 * fails one can tell whether the server or the client is at fault.
 */
import assert from 'node:assert/strict';
import { watch, type FSWatcher } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Client, FTPError } from 'basic-ftp';
import {
  AbortedError,
  AsyncFTPClient,
  FtpConnectError,
  FtpError,
  FtpReplyError,
  FtpTlsError,
  UnsafePathError,
  type AsyncFTPClientOptions,
  type RemoteEntry,
} from '../../src/ftp/index.js';
import { makeRadarDataset, type DatasetFile } from '../helpers/dataset.js';
import { sha256File, sha256Hex } from '../helpers/hash.js';
import { sleep } from '../helpers/wait.js';
import {
  DEBIAN_SERVER_KINDS,
  debianServerAvailable,
  startDebianServer,
  type DebianServer,
  type DebianServerKind,
  type DebianServerOptions,
} from '../helpers/debian-servers.js';
import { loginTo } from '../helpers/ftp-login.js';

/** TEST-NET-1 (RFC 5737): never routed, so nothing can ever answer there. Never connected to. */
const WRONG_PASV_ADDRESS = '192.0.2.1';
/** Bytes/s per data connection for the tests that need transfers to last (overlap, cut-off). */
const SLOW_RATE = 400_000;
const CLIENT_TIMEOUTS = { connectMs: 10_000, commandMs: 20_000, dataStallMs: 20_000 };

function clientFor(server: DebianServer, extra: Partial<AsyncFTPClientOptions> = {}): AsyncFTPClient {
  return new AsyncFTPClient({
    ...loginTo(server),
    timeouts: CLIENT_TIMEOUTS,
    ...extra,
  });
}

function tlsClientFor(server: DebianServer, extra: Partial<AsyncFTPClientOptions> = {}): AsyncFTPClient {
  assert.ok(server.tlsCertPem, 'server has no TLS certificate');
  return clientFor(server, { secure: 'explicit', tls: { ca: server.tlsCertPem }, ...extra });
}

/** basic-ftp directly, for the harness checks. */
async function rawClient(server: DebianServer, tls = false): Promise<Client> {
  const c = new Client(10_000);
  await c.access({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    secure: tls,
    ...(tls ? { secureOptions: { ca: server.tlsCertPem } } : {}),
  });
  return c;
}

/** Starts an extra server instance for one test and stops it afterwards, whatever happens. */
async function withServer<T>(
  kind: DebianServerKind,
  opts: DebianServerOptions,
  fn: (server: DebianServer) => Promise<T>,
): Promise<T> {
  const server = await startDebianServer(kind, opts);
  try {
    return await fn(server);
  } catch (err) {
    // the server's own view is the fastest way to a cause
    if (err instanceof Error) err.message += `\n${kind} log tail:\n${server.logTail(20)}`;
    throw err;
  } finally {
    await server.stop();
  }
}

/** LIST shows `Nov 28 16:51` for recent files: minute precision. MLSD gives seconds. */
const toMinute = (d: Date): number => Math.floor(d.getTime() / 60_000) * 60_000;

function byPath<T extends { path: string }>(a: T, b: T): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/**
 * Records, in kernel order, when each `<name>.part` appears and when `<name>` appears (the
 * rename), and returns the most downloads that were in flight at once. Uses inotify event order
 * rather than clocks, so the result does not depend on timing.
 */
function watchInFlight(dir: string): {
  stop: () => Promise<{ peak: number; intervals: number }>;
  watcher: FSWatcher;
} {
  const events: string[] = [];
  const watcher = watch(dir, (_type, name) => {
    if (name !== null) events.push(String(name));
  });
  return {
    watcher,
    stop: async () => {
      await sleep(100); // let the last inotify events arrive
      watcher.close();
      const started = new Set<string>();
      const ended = new Set<string>();
      let inFlight = 0;
      let peak = 0;
      for (const name of events) {
        if (name.endsWith('.part')) {
          const base = name.slice(0, -'.part'.length);
          if (!started.has(base)) {
            started.add(base);
            inFlight++;
            peak = Math.max(peak, inFlight);
          }
        } else if (started.has(name) && !ended.has(name)) {
          ended.add(name);
          inFlight--;
        }
      }
      return { peak, intervals: ended.size };
    },
  };
}

for (const kind of DEBIAN_SERVER_KINDS) {
  const unavailable = debianServerAvailable(kind, { tls: true });

  void describe(`${kind} (real Debian server)`, { skip: unavailable ?? false }, () => {
    let work: string;
    let root: string;
    let server: DebianServer;
    let flat: DatasetFile[];
    let tree: DatasetFile[];

    before(async () => {
      work = await mkdtemp(join(tmpdir(), `radarlib-${kind}-test-`));
      root = join(work, 'root');
      await mkdir(root, { mode: 0o755 });
      await chmod(root, 0o755);
      flat = await makeRadarDataset(join(root, 'flat'), { volumes: 2, layout: 'flat' });
      tree = await makeRadarDataset(join(root, 'tree'), {
        volumes: 3,
        layout: 'tree',
        radars: ['RMA1', 'RMA5'],
        fields: ['DBZH', 'VRAD'],
        sizeMax: 200_000,
        seed: 7,
      });
      // Names that must never become local paths, and one odd but safe name.
      const odd = join(root, 'odd');
      await mkdir(odd);
      await chmod(odd, 0o755);
      for (const name of ['a\nb.BUFR', 'a\\b.BUFR', 'c\rd.BUFR', '..bad.BUFR']) {
        await writeFile(join(odd, name), `odd file ${JSON.stringify(name)}\n`, { mode: 0o644 });
        await chmod(join(odd, name), 0o644);
      }
      server = await startDebianServer(kind, { root, tls: 'explicit' });
    });

    after(async () => {
      await server?.stop();
      if (work !== undefined) await rm(work, { recursive: true, force: true });
    });

    const localDir = (name: string): string => join(work, 'local', name);

    // ---------------------------------------------------------------- server harness (basic-ftp)

    void test('harness: login, LIST and (where offered) MLSD list the data set with sizes', async () => {
      const c = await rawClient(server);
      try {
        const want = new Map(flat.map((f) => [f.relPath, f.size]));
        c.availableListCommands = ['LIST'];
        const viaList = await c.list('/flat');
        assert.deepEqual(new Map(viaList.map((e) => [e.name, e.size])), want);
        if (server.supportsMlsd) {
          c.availableListCommands = ['MLSD'];
          const viaMlsd = await c.list('/flat');
          assert.deepEqual(new Map(viaMlsd.map((e) => [e.name, e.size])), want);
          for (const e of viaMlsd) {
            const f = flat.find((x) => x.relPath === e.name);
            assert.equal(e.modifiedAt?.getTime(), f?.mtime.getTime(), `MLSD modify of ${e.name}`);
          }
        } else {
          await assert.rejects(
            c.send('MLSD /flat'),
            (err: unknown) => err instanceof FTPError && err.code >= 500,
          );
        }
      } finally {
        c.close();
      }
    });

    void test('harness: explicit FTPS with the self-signed certificate as ca', async () => {
      const c = await rawClient(server, true);
      try {
        const first = flat[0]!;
        const chunks: Buffer[] = [];
        const sink = new Writable({
          write(chunk: Buffer, _enc, cb) {
            chunks.push(chunk);
            cb();
          },
        });
        await c.downloadTo(sink, `/flat/${first.relPath}`);
        assert.equal(sha256Hex(Buffer.concat(chunks)), first.sha256);
      } finally {
        c.close();
      }
    });

    // ---------------------------------------------------------------- AsyncFTPClient

    void test('listEntries: sizes and modification times (MLSD: exact, LIST: to the minute)', async () => {
      await using client = clientFor(server);
      const entries = await client.listEntries('/flat');
      assert.deepEqual(
        entries.map((e) => [e.path, e.name, e.size]),
        flat.map((f) => [`/flat/${f.relPath}`, f.relPath, f.size]).sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
      );
      for (const e of entries) {
        const f = flat.find((x) => x.relPath === e.name)!;
        assert.ok(e.modifiedAt, `${e.path} has a modification time`);
        if (server.supportsMlsd) assert.equal(e.modifiedAt.getTime(), f.mtime.getTime(), e.path);
        else assert.equal(e.modifiedAt.getTime(), toMinute(f.mtime), `${e.path} (LIST, minute precision)`);
      }
      assert.deepEqual(
        await client.listFiles('/flat', { pattern: '*_DBZH_*' }),
        flat.filter((f) => f.relPath.includes('_DBZH_')).map((f) => `/flat/${f.relPath}`),
      );
    });

    void test('listEntries recursive: the whole radar date tree, with glob and RegExp patterns', async () => {
      await using client = clientFor(server);
      const all = await client.listEntries('/tree', { recursive: true });
      const want = tree.map((f) => ({ path: `/tree/${f.relPath}`, size: f.size })).sort(byPath);
      assert.deepEqual(
        all.map((e) => ({ path: e.path, size: e.size })),
        want,
      );
      const rma5Vrad = await client.listFiles('/tree', { pattern: 'RMA5*_VRAD_*', recursive: true });
      assert.deepEqual(
        rma5Vrad,
        want.map((w) => w.path).filter((p) => /\/RMA5_[^/]*_VRAD_[^/]*$/.test(p)),
      );
      assert.equal(rma5Vrad.length, 3);
      assert.deepEqual(
        await client.listFiles('/tree', { pattern: '**/*.BUFR', recursive: true }),
        all.map((e) => e.path),
      );
      assert.deepEqual(
        await client.listFiles('/tree/L2', { pattern: /^RMA1\/.*_DBZH_/, recursive: true }),
        want.map((w) => w.path).filter((p) => /\/L2\/RMA1\/.*_DBZH_/.test(p)),
      );
      // Not recursive: the tree root holds only a folder, so no file matches.
      assert.deepEqual(await client.listFiles('/tree'), []);
    });

    void test('downloadFile: SHA-256 matches, no .part left', async () => {
      await using client = clientFor(server);
      const [entry] = await client.listEntries('/flat', { pattern: '*_KDP_*' });
      assert.ok(entry);
      const dir = localDir('one');
      const local = await client.downloadFile(entry, dir);
      assert.equal(local, join(dir, entry.name));
      assert.equal(sha256File(local), flat.find((f) => f.relPath === entry.name)?.sha256);
      assert.deepEqual(await readdir(dir), [entry.name]);
      assert.equal(await client.checkFileExists(entry.path), true);
    });

    void test('downloadFiles maxConcurrent 5: transfers overlap, every file intact', async () => {
      await withServer(kind, { root, rateLimit: SLOW_RATE }, async (slow) => {
        await using client = clientFor(slow);
        const entries = await client.listEntries('/flat');
        const batch = entries.slice(0, 10);
        const dir = localDir('parallel');
        await mkdir(dir, { recursive: true });
        const done: string[] = [];
        const inFlight = watchInFlight(dir);
        const result = await client.downloadFiles(batch, dir, {
          maxConcurrent: 5,
          onFileDone: (r) => done.push(r.remotePath),
        });
        const { peak, intervals } = await inFlight.stop();
        assert.deepEqual(result.failures, []);
        assert.equal(result.length, batch.length);
        assert.equal(done.length, batch.length);
        for (const e of batch) {
          const f = flat.find((x) => x.relPath === e.name)!;
          assert.equal(sha256File(join(dir, e.name)), f.sha256, e.name);
        }
        assert.equal(intervals, batch.length, 'every download went through <name>.part -> <name>');
        assert.ok(peak >= 2, `downloads overlapped (at most ${peak} in flight at once)`);
        // (no upper bound on .part files: one lives on while it is made durable after its
        // connection went to the next file; the transfers in flight are the connections in use)
        assert.ok(
          client.poolStats.peakBusy >= 2 && client.poolStats.peakBusy <= 5,
          `pool used 2..5 parallel connections (${client.poolStats.peakBusy})`,
        );
      });
    });

    void test('resume: a leftover .part is continued with REST', async () => {
      await using client = clientFor(server);
      const entry = (await client.listEntries('/flat')).reduce((a, b) => (b.size > a.size ? b : a));
      const f = flat.find((x) => x.relPath === entry.name)!;
      const dir = localDir('resume-part');
      await mkdir(dir, { recursive: true });
      const bytes = await readFile(join(root, 'flat', f.relPath));
      const keep = Math.floor(entry.size / 2);
      await writeFile(join(dir, `${entry.name}.part`), bytes.subarray(0, keep));
      const progress: number[] = [];
      const local = await client.downloadFile(entry, dir, { onProgress: (n) => progress.push(n) });
      assert.equal(sha256File(local), f.sha256);
      assert.ok(progress.length > 0);
      // A restart from 0 would report fewer bytes than the kept prefix first.
      assert.ok(Math.min(...progress) >= keep, `resumed from byte ${keep} (first progress ${progress[0]})`);
      assert.deepEqual(await readdir(dir), [entry.name]);
    });

    void test('resume after a dropped connection: the next attempt continues the .part', async () => {
      await withServer(kind, { root, rateLimit: SLOW_RATE }, async (slow) => {
        await using client = clientFor(slow);
        const entry = (await client.listEntries('/flat')).reduce((a, b) => (b.size > a.size ? b : a));
        const f = flat.find((x) => x.relPath === entry.name)!;
        const dir = localDir('resume-drop');
        const cut = new AbortController();
        const threshold = 100_000;
        await assert.rejects(
          client.downloadFile(entry, dir, {
            signal: cut.signal,
            onProgress: (n) => {
              if (n > threshold) cut.abort(new Error('drop the connection midway'));
            },
          }),
          AbortedError,
        );
        assert.deepEqual(await readdir(dir), [`${entry.name}.part`], 'only the .part is left');
        const progress: number[] = [];
        const local = await client.downloadFile(entry, dir, { onProgress: (n) => progress.push(n) });
        assert.equal(sha256File(local), f.sha256);
        assert.ok(
          Math.min(...progress) > threshold,
          `second attempt resumed (first progress ${progress[0]})`,
        );
        assert.deepEqual(await readdir(dir), [entry.name]);
      });
    });

    void test('per-IP connection cap: the server refuses, the batch still completes', async () => {
      const cap = 2;
      await withServer(kind, { root, maxPerIp: cap }, async (capped) => {
        // harness: cap connections are fine, the next one is refused with the server's code
        const held: Client[] = [];
        try {
          for (let i = 0; i < cap; i++) held.push(await rawClient(capped));
          await assert.rejects(rawClient(capped), (err: unknown) => {
            assert.ok(err instanceof FTPError, `expected a reply error, got ${String(err)}`);
            assert.equal(err.code, capped.maxPerIpReplyCode);
            return true;
          });
        } finally {
          for (const c of held) c.close();
        }
        await sleep(200); // let the server notice the closed sessions (it counts processes)

        await using client = clientFor(capped);
        const entries = await client.listEntries('/flat');
        const dir = localDir('capped');
        const result = await client.downloadFiles(entries, dir, { maxConcurrent: cap + 3 });
        assert.deepEqual(
          result.failures.map((x) => `${x.remotePath}: ${x.error.message}`),
          [],
        );
        assert.equal(result.length, entries.length);
        for (const e of entries) {
          assert.equal(sha256File(join(dir, e.name)), flat.find((f) => f.relPath === e.name)?.sha256);
        }
        assert.ok(client.poolStats.peakBusy <= cap, `never more than ${cap} connections in use`);
      });
    });

    void test('explicit FTPS with the self-signed certificate as ca: list and download', async () => {
      await using client = tlsClientFor(server);
      const entries = await client.listEntries('/flat', { pattern: '*_ZDR_*' });
      assert.equal(entries.length, 2);
      const dir = localDir('ftps');
      const result = await client.downloadFiles(entries, dir, { maxConcurrent: 2 });
      assert.deepEqual(result.failures, []);
      for (const e of entries) {
        assert.equal(sha256File(join(dir, e.name)), flat.find((f) => f.relPath === e.name)?.sha256);
      }
    });

    void test('FTPS required (vsftpd require_ssl_reuse, proftpd session reuse): data connections resume TLS', async () => {
      await withServer(kind, { root, tls: 'explicit', requireSslReuse: true }, async (strict) => {
        // a plain client is turned away
        await using plain = clientFor(strict);
        await assert.rejects(
          plain.connect(),
          (err: unknown) => err instanceof FtpReplyError || err instanceof FtpConnectError,
        );

        await using client = tlsClientFor(strict);
        const entries = await client.listEntries('/tree', { recursive: true, pattern: '*_DBZH_*' });
        assert.equal(entries.length, 6);
        const dir = localDir('ftps-strict');
        const result = await client.downloadFiles(entries, dir, { maxConcurrent: 3 });
        assert.deepEqual(result.failures, []);
        for (const e of entries) {
          assert.equal(sha256File(join(dir, e.name)), tree.find((f) => f.relPath.endsWith(e.name))?.sha256);
        }
        if (kind === 'vsftpd') {
          // vsftpd's debug_ssl log says whether each data connection resumed the session
          const log = strict.logTail(400);
          assert.match(log, /SSL version: TLSv1\.\d, SSL cipher: [^,]+, reused/);
          assert.doesNotMatch(log, /No SSL session reuse on data channel/);
        }
      });
    });

    void test('a self-signed certificate without ca is refused by default', async () => {
      await using client = clientFor(server, { secure: 'explicit' });
      await assert.rejects(client.connect(), (err: unknown) => {
        assert.ok(err instanceof FtpTlsError || err instanceof FtpConnectError, `got ${String(err)}`);
        assert.doesNotMatch((err as Error).message, new RegExp(server.password));
        return true;
      });
    });

    void test('wrong PASV address: the data connection goes to the control host', async () => {
      await withServer(kind, { root, pasvAddress: WRONG_PASV_ADDRESS }, async (natted) => {
        // harness: the server really announces the wrong address
        const c = await rawClient(natted);
        try {
          const reply = await c.send('PASV');
          assert.match(
            reply.message,
            new RegExp(`\\(${WRONG_PASV_ADDRESS.replaceAll('.', ',')},\\d+,\\d+\\)`),
          );
        } finally {
          c.close();
        }
        await using client = clientFor(natted, { epsv: false });
        const entries = await client.listEntries('/flat', { pattern: '*_RHOHV_*' });
        assert.equal(entries.length, 2);
        const dir = localDir('natted');
        const result = await client.downloadFiles(entries, dir, { maxConcurrent: 2 });
        assert.deepEqual(result.failures, []);
        for (const e of entries) {
          assert.equal(sha256File(join(dir, e.name)), flat.find((f) => f.relPath === e.name)?.sha256);
        }
      });
    });

    void test('a missing file: checkFileExists is false, the download error names the path', async (t) => {
      await using client = clientFor(server);
      const missing = '/flat/RMA1_0315_01_DBZH_19990101T000000Z.BUFR';
      assert.equal(await client.checkFileExists(missing), false);
      const existing = `/flat/${flat[0]!.relPath}`;
      assert.equal(await client.checkFileExists(existing), true);

      const dir = localDir('missing');
      const result = await client.downloadFiles([missing, existing], dir, { maxConcurrent: 2 });
      assert.deepEqual([...result], [join(dir, flat[0]!.relPath)]);
      assert.equal(result.failures.length, 1);
      const [failure] = result.failures;
      assert.equal(failure?.remotePath, missing);
      assert.ok(failure?.error instanceof FtpReplyError, `got ${String(failure?.error)}`);
      assert.ok(failure.error.replyCode >= 500);
      assert.equal(failure.error.remotePath, missing);
      assert.ok(failure.error.message.includes(missing), failure.error.message);
      await assert.rejects(client.downloadFile(missing, dir), (err: unknown) => {
        assert.ok(err instanceof Error && err.message.includes(missing));
        return true;
      });
      assert.deepEqual(await readdir(dir), [flat[0]!.relPath], 'no file or .part for the missing one');

      // A stale listing entry: the size is known, so the client opens the .part and the failure
      // comes at RETR. Repeated, because a race in that error path showed up only sometimes (an
      // uncaught EBADF from closing the .part twice). ProFTPD resets the already-open data
      // connection along with its 550, so the error may be a socket error; it must name the path.
      const staleName = missing.slice(missing.lastIndexOf('/') + 1);
      const stale: RemoteEntry = { path: missing, name: staleName, size: 1000, modifiedAt: null };
      const kinds = new Set<string>();
      for (let i = 0; i < 10; i++) {
        await assert.rejects(client.downloadFile(stale, dir), (err: unknown) => {
          assert.ok(err instanceof FtpError && err.remotePath === missing, String(err));
          assert.ok(err.message.includes(missing), err.message);
          if (err instanceof FtpReplyError) assert.ok(err.replyCode >= 500, err.message);
          kinds.add(err instanceof FtpReplyError ? `reply ${err.replyCode}` : err.name);
          return true;
        });
      }
      t.diagnostic(`stale entry errors on ${kind}: ${[...kinds].join(', ')}`);
      assert.ok(!(await readdir(dir)).includes(staleName), 'no final file for a failed download');
    });

    void test('one batch with two remote files of the same name: no crash, one intact local file', async () => {
      await using client = clientFor(server);
      const [entry] = await client.listEntries('/flat', { pattern: '*_PHIDP_*' });
      assert.ok(entry);
      const dir = localDir('duplicates');
      const result = await client.downloadFiles([entry, { ...entry }, entry.path], dir, { maxConcurrent: 3 });
      // Either each copy lands on the same final path, or the later ones fail with a typed error;
      // never an uncaught exception from two writers on one .part.
      assert.equal(result.length + result.failures.length, 3);
      assert.ok(result.length >= 1);
      for (const f of result.failures)
        assert.ok(f.error.name !== 'Error', `untyped error ${String(f.error)}`);
      assert.deepEqual(await readdir(dir), [entry.name]);
      assert.equal(sha256File(join(dir, entry.name)), flat.find((f) => f.relPath === entry.name)?.sha256);
    });

    void test('names that would escape the local folder are skipped with UnsafePathError', async () => {
      await using client = clientFor(server);
      const dir = localDir('unsafe');
      // Asked for by path: the client refuses before any RETR.
      const unsafe = ['/odd/a\nb.BUFR', '/odd/a\\b.BUFR', '/odd/c\rd.BUFR'];
      const result = await client.downloadFiles([...unsafe, '/odd/..bad.BUFR'], dir);
      assert.deepEqual([...result], [join(dir, '..bad.BUFR')]);
      assert.deepEqual(result.failures.map((x) => x.remotePath).sort(), [...unsafe].sort());
      for (const { error, remotePath } of result.failures) {
        assert.ok(error instanceof UnsafePathError, `${JSON.stringify(remotePath)}: ${String(error)}`);
        assert.equal(error.remotePath, remotePath);
      }

      // Taken from the listing: servers show such names differently (vsftpd and pure-ftpd hide
      // or cut them, MLSD splits `a\nb` into two lines), but none becomes a bad local path.
      const listed: RemoteEntry[] = await client.listEntries('/odd', { pattern: /./ });
      const names = listed.map((e) => e.name);
      assert.ok(names.includes('a\\b.BUFR'), `backslash name listed (${JSON.stringify(names)})`);
      const dir2 = localDir('unsafe-listed');
      const fromListing = await client.downloadFiles(listed, dir2);
      const failed = new Map(fromListing.failures.map((x) => [x.remotePath, x.error]));
      assert.ok(failed.get('/odd/a\\b.BUFR') instanceof UnsafePathError);
      for (const e of listed) {
        if (/[\\\r\n]/.test(e.name))
          assert.ok(failed.get(e.path) instanceof UnsafePathError, JSON.stringify(e.name));
      }
      // (a phantom entry such as `a` from a split MLSD line may fail with 550; any .part it
      // leaves is the client's business, but its name is safe too)
      for (const name of await readdir(dir2)) assert.doesNotMatch(name, /[\\\r\n/]/);
      assert.ok((await readdir(dir2)).includes('..bad.BUFR'));
      // nothing was written beside the target folders
      for (const name of await readdir(localDir(''))) assert.doesNotMatch(name, /[\\\r\n]/);
    });
  });
}
