/**
 * The listing walk and the download batch that both clients share (src/ftp/walk.ts,
 * src/ftp/batch.ts), as one suite run over FTP (the embedded server) and over SFTP (the embedded
 * SSH server): what a caller of `walkEntries` and `downloadFiles` relies on, whatever the protocol.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FtpReplyError, InvalidArgumentError } from '../../src/errors.js';
import { AsyncFTPClient, type DownloadFilesOptions, type RemoteEntry } from '../../src/ftp/index.js';
import { AsyncSFTPClient } from '../../src/sftp/index.js';
import { payload } from '../daemon/helpers/setup.js';
import { startEmbeddedFtp } from '../helpers/embedded-ftp.js';
import { startEmbeddedSftp, writeKnownHosts } from '../helpers/embedded-sftp.js';
import { loginTo } from '../helpers/ftp-login.js';

/** What the suite uses of a client: the same methods on both. */
type TransferClient = Pick<AsyncFTPClient, 'listEntries' | 'walkEntries' | 'downloadFiles' | 'disconnect'>;

interface Protocol {
  name: string;
  /** Serves `root`; resolves to a connected client and a way to stop both. */
  start(root: string, base: string): Promise<{ client: TransferClient; stop(): Promise<void> }>;
}

const PROTOCOLS: Protocol[] = [
  {
    name: 'FTP',
    start: async (root) => {
      const server = await startEmbeddedFtp({ root });
      const client = new AsyncFTPClient(loginTo(server));
      return { client, stop: () => server.stop() };
    },
  },
  {
    name: 'SFTP',
    start: async (root, base) => {
      const server = await startEmbeddedSftp({ root });
      const client = new AsyncSFTPClient({
        host: server.host,
        port: server.port,
        username: server.username,
        password: server.password,
        knownHosts: writeKnownHosts(server, base),
      });
      return { client, stop: () => server.stop() };
    },
  },
];

/** A radar date tree of 3 folders × 4 files, and two files of one name in two folders. */
const TREE = ['2828', '2928', '3028'].flatMap((mmss, i) =>
  ['DBZH', 'VRAD', 'ZDR', 'RHOHV'].map(
    (field) => `/L2/RMA1/2025/10/20/15/${mmss}/RMA1_0315_0${i + 1}_${field}_20251020T15${mmss}Z.BUFR`,
  ),
);
const SAME_NAME = ['/dup/a/x.BUFR', '/dup/b/x.BUFR'];

function serve(base: string): { root: string; content: Map<string, Buffer> } {
  const root = join(base, 'srv');
  const content = new Map<string, Buffer>();
  [...TREE, ...SAME_NAME].forEach((path, i) => {
    const bytes = payload(i, 5_000 + i * 997);
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), bytes);
    content.set(path, bytes);
  });
  return { root, content };
}

for (const protocol of PROTOCOLS) {
  describe(`walk and batch over ${protocol.name}`, () => {
    const base = mkdtempSync(join(tmpdir(), `radarlib-batch-${protocol.name}-`));
    const { root, content } = serve(base);
    let client: TransferClient;
    let stop: () => Promise<void>;
    let dirs = 0;
    const freshDir = (): string => join(base, `out-${dirs++}`);
    /** The local folder holds exactly `paths`' files, each whole, and nothing else (no `.part`). */
    const assertWhole = (dir: string, paths: readonly string[]): void => {
      const names = paths.map((p) => p.slice(p.lastIndexOf('/') + 1));
      assert.deepEqual(readdirSync(dir).sort(), [...names].sort());
      for (const [i, path] of paths.entries()) {
        assert.ok(readFileSync(join(dir, names[i] ?? '')).equals(content.get(path) ?? Buffer.alloc(0)), path);
      }
    };

    before(async () => {
      ({ client, stop } = await protocol.start(root, base));
    });
    after(async () => {
      await client.disconnect();
      await stop();
      rmSync(base, { recursive: true, force: true });
    });

    test('walkEntries finds what listEntries finds, with the times the daemon reads', async () => {
      const listed = await client.listEntries('/L2', { recursive: true });
      assert.deepEqual(
        listed.map((e) => e.path),
        [...TREE].sort(),
      );
      const walked: RemoteEntry[] = [];
      for await (const e of client.walkEntries('/L2', { recursive: true })) walked.push(e);
      assert.deepEqual(walked.map((e) => e.path).sort(), [...TREE].sort());
      for (const e of walked) {
        assert.equal(e.size, content.get(e.path)?.length, e.path);
        assert.equal(typeof e.modifiedAtPrecisionMs, 'number', `${e.path}: precision kept`);
        assert.equal(typeof e.modifiedAtInServerZone, 'boolean', `${e.path}: zone flag kept`);
      }
    });

    test('walkEntries streamed into downloadFiles: every file once, whole, one onFileDone each', async () => {
      const dir = freshDir();
      const done: { remotePath: string; localPath?: string; error?: Error }[] = [];
      const batch = await client.downloadFiles(client.walkEntries('/L2', { recursive: true }), dir, {
        maxConcurrent: 3,
        onFileDone: (r) => done.push(r),
      });
      assert.deepEqual(batch.failures, []);
      assert.equal(batch.length, TREE.length);
      assert.deepEqual(done.map((r) => r.remotePath).sort(), [...TREE].sort());
      assert.ok(done.every((r) => r.error === undefined && r.localPath !== undefined));
      assertWhole(dir, TREE);
    });

    test('an iterable that fails part-way: its error comes out once the files it gave are whole', async () => {
      const dir = freshDir();
      async function* walkThenFail(): AsyncGenerator<RemoteEntry> {
        yield* client.walkEntries('/L2', { recursive: true });
        throw new Error('listing lost');
      }
      await assert.rejects(client.downloadFiles(walkThenFail(), dir, { maxConcurrent: 2 }), /listing lost/);
      assertWhole(dir, TREE);
    });

    test('a walk from a missing folder rejects with the reply naming it, and so does its batch', async () => {
      // (the embedded FTP server answers 451, OpenSSH's "no such file" maps to 550)
      const missing = (err: unknown): boolean => err instanceof FtpReplyError && err.remotePath === '/nope';
      await assert.rejects(client.walkEntries('/nope', { recursive: true }).next(), missing);
      const dir = freshDir();
      await assert.rejects(client.downloadFiles(client.walkEntries('/nope'), dir), missing);
    });

    test('two remote files of one local name in one batch are taken in turn: the last one, whole', async () => {
      const dir = freshDir();
      const batch = await client.downloadFiles(SAME_NAME, dir, { maxConcurrent: 2 });
      assert.deepEqual(batch.failures, []);
      assert.deepEqual([...batch], [join(dir, 'x.BUFR'), join(dir, 'x.BUFR')]);
      assertWhole(dir, SAME_NAME.slice(1));
    });

    test('an onFileDone that throws fails that file only', async () => {
      const dir = freshDir();
      const refused = TREE[0] ?? '';
      const errors = new Map<string, string>();
      const batch = await client.downloadFiles(TREE, dir, {
        maxConcurrent: 3,
        onFileDone: ({ remotePath, error }) => {
          if (error !== undefined) errors.set(remotePath, error.message);
          else if (remotePath === refused) throw new Error('callback refused');
        },
      });
      assert.deepEqual(
        batch.failures.map((f) => [f.remotePath, f.error.message]),
        [[refused, 'callback refused']],
      );
      assert.deepEqual([...errors], [[refused, 'callback refused']], 'told once more, with the error');
      assertWhole(dir, TREE);
    });

    test('maxConcurrent and autoCap are checked before anything starts, naming the option', async () => {
      const bad: [DownloadFilesOptions, string][] = [
        [{ maxConcurrent: 0 }, 'maxConcurrent'],
        [{ maxConcurrent: 1.5 }, 'maxConcurrent'],
        [{ maxConcurrent: 'auto', autoCap: 0 }, 'autoCap'],
      ];
      const dir = freshDir();
      for (const [options, name] of bad) {
        await assert.rejects(
          client.downloadFiles(TREE, dir, options),
          (err: unknown) => err instanceof InvalidArgumentError && err.message.includes(name),
        );
      }
      assert.deepEqual(readdirSync(base).includes(dir.slice(base.length + 1)), false, 'nothing written');
    });
  });
}
