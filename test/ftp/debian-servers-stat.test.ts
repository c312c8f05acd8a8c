/**
 * Recursive walks by `STAT <folder>` (src/ftp/control-listing.ts) on the real Debian servers:
 * vsftpd (213, no MLSD), ProFTPD (212, lines indented; also over FTPS), Pure-FTPd and pyftpdlib
 * (213). On each, a radar date tree, a folder of 1,200 entries (a reply over 64 KiB) and a file
 * name holding CR LF and a fake end of reply: `listFiles` finds every file, the server's log
 * shows one STAT per folder and no data connection for them (except the CR LF folder, listed by
 * MLSD/LIST), the connection's later replies are its own, `listEntries` keeps MLSD's exact times
 * where the server has MLSD, and a missing folder fails as it does without STAT. On one
 * connection, sibling folders' STATs go in one write (src/ftp/stat-batch.ts), the CR LF folder's
 * among them.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AsyncFTPClient } from '../../src/ftp/index.js';
import type { FtpServerOptions } from '../../src/ftp/types.js';
import { makeRadarDataset, type DatasetFile } from '../helpers/dataset.js';
import {
  DEBIAN_SERVER_KINDS,
  debianServerAvailable,
  startDebianServer,
  type DebianServer,
  type DebianServerKind,
} from '../helpers/debian-servers.js';
import { startRelay } from '../helpers/flight-relay.js';
import { sha256File } from '../helpers/hash.js';
import { scaled } from '../helpers/wait.js';

const BIG = 1_200;
const CRLF_NAME = 'x\r\n213 End of status\r\n212 End of status\r\n-rw-r--r-- 1 0 0 1 Dec 02 21:21 y';

const CASES: readonly { kind: DebianServerKind; tls: boolean }[] = [
  ...DEBIAN_SERVER_KINDS.map((kind) => ({ kind, tls: false })),
  { kind: 'proftpd', tls: true },
];

for (const { kind, tls } of CASES) {
  const unavailable = debianServerAvailable(kind, { tls });
  describe(
    `recursive walks by STAT on ${kind}${tls ? ' over FTPS' : ''}`,
    { skip: unavailable ?? false },
    () => {
      let work: string;
      let files: DatasetFile[];
      let expected: string[];
      let server: DebianServer;
      let options: FtpServerOptions;
      before(async () => {
        work = await mkdtemp(join(tmpdir(), 'radarlib-stat-'));
        const root = join(work, 'data');
        files = await makeRadarDataset(root, { volumes: 4, layout: 'tree', sizeMin: 2_000, sizeMax: 4_000 });
        mkdirSync(join(root, 'L2', 'BIG'));
        for (let i = 0; i < BIG; i++)
          writeFileSync(join(root, 'L2', 'BIG', `RMA9_${String(i).padStart(5, '0')}_0315_01_DBZH.BUFR`), 'x');
        // beside the files of one minute folder
        writeFileSync(join(root, dirname(files[0]?.relPath ?? ''), CRLF_NAME), 'e');
        expected = [
          ...files.map((f) => `/${f.relPath}`),
          ...Array.from(
            { length: BIG },
            (_, i) => `/L2/BIG/RMA9_${String(i).padStart(5, '0')}_0315_01_DBZH.BUFR`,
          ),
        ].sort();
        server = await startDebianServer(kind, { root, ...(tls ? { tls: 'explicit' as const } : {}) });
        options = {
          host: server.host,
          port: server.port,
          username: server.user,
          password: server.password,
          maxConnections: 4,
          ...(server.tlsCertPem === undefined
            ? {}
            : { secure: 'explicit' as const, tls: { ca: server.tlsCertPem } }),
          timeouts: { connectMs: scaled(10_000), commandMs: scaled(10_000), dataStallMs: scaled(20_000) },
        };
      });
      after(async () => {
        await server?.stop();
        await rm(work, { recursive: true, force: true });
      });

      test(
        'listFiles: one STAT per folder, a data connection only for the CR LF folder',
        { timeout: scaled(60_000) },
        async () => {
          const client = new AsyncFTPClient(options);
          try {
            assert.deepEqual(
              await client.listFiles('/L2', { recursive: true }),
              expected,
              server.logTail(30),
            );
            // the connections' next replies are their own
            for (const path of expected.slice(0, 4)) assert.equal(await client.checkFileExists(path), true);
            assert.equal(await client.checkFileExists('/L2/nope.BUFR'), false);
            // RETR on connections that sent STAT and REST (ready data connections among them):
            // REST 0 left no offset, every file comes whole
            const some = files.slice(0, 8);
            const batch = await client.downloadFiles(
              some.map((f) => `/${f.relPath}`),
              join(work, 'out'),
              { maxConcurrent: 4 },
            );
            assert.deepEqual(batch.failures, []);
            for (const f of some)
              assert.equal(sha256File(join(work, 'out', f.relPath.split('/').pop() ?? '')), f.sha256);
          } finally {
            await client.disconnect();
          }
          const commands = server.receivedCommands();
          if (commands === null) return; // pure-ftpd logs no commands
          const folders = new Set<string>(['/L2/BIG']);
          for (const f of files)
            for (let d = dirname(`/${f.relPath}`); d !== '/'; d = dirname(d)) folders.add(d);
          const stats = commands.filter((c) => c.startsWith('STAT ')).map((c) => c.slice(5));
          assert.deepEqual(stats.sort(), [...folders].sort());
          const crlfFolder = `/${dirname(files[0]?.relPath ?? '')}`;
          const listings = commands
            .filter((c) => /^(MLSD|LIST|NLST)\b/.test(c))
            .map((c) => c.replace(/^\S+( -a)? /, ''));
          assert.deepEqual([...new Set(listings)], [crlfFolder]);
          // each passive set-up served a listing or a RETR, plus at most one spare per connection
          // (vsftpd once sent 14 for 13 under load: the other connections still logging in, the
          // SIZEs went to the one that had just listed and made its prefetched EPSV reply stale;
          // test/ftp/pool-prefetch.test.ts)
          const retrs = commands.filter((c) => c.startsWith('RETR ')).length;
          const setups = commands.filter((c) => /^(EPSV|PASV)\b/.test(c)).length;
          assert.ok(
            setups <= listings.length + retrs + 4,
            `${setups} EPSV/PASV, ${listings.length} listings, ${retrs} RETR; server log:\n${server.logTail(200)}`,
          );
        },
      );

      test(
        'one connection: sibling folders in one write, the same files',
        { timeout: scaled(60_000) },
        async () => {
          // plain FTP: a relay counts the STATs in each write (over FTPS the writes are sealed)
          const perChunk: number[] = [];
          const relay = tls
            ? undefined
            : await startRelay(server.port, () => ({
                fromClient: (chunk, toServer) => {
                  const n = chunk.toString('latin1').match(/^STAT /gm)?.length ?? 0;
                  if (n > 0) perChunk.push(n);
                  toServer(chunk);
                },
                fromServer: (chunk, toClient) => toClient(chunk),
              }));
          const client = new AsyncFTPClient({
            ...options,
            maxConnections: 1,
            port: relay?.port ?? server.port,
          });
          try {
            assert.deepEqual(
              await client.listFiles('/L2', { recursive: true }),
              expected,
              server.logTail(30),
            );
            assert.equal(await client.checkFileExists(expected[0] ?? ''), true);
            assert.equal(await client.checkFileExists('/L2/nope.BUFR'), false);
          } finally {
            await client.disconnect();
            await relay?.close();
          }
          if (relay === undefined) return;
          // the minute folders of an hour (the CR LF one among them) went out together
          const minutes = new Map<string, number>();
          for (const f of new Set(files.map((x) => dirname(x.relPath))))
            minutes.set(dirname(f), (minutes.get(dirname(f)) ?? 0) + 1);
          assert.equal(Math.max(...perChunk), Math.min(8, Math.max(...minutes.values())), perChunk.join());
        },
      );

      /** STATs the server logged so far (null: pure-ftpd logs no commands). */
      const stats = (): string[] | null =>
        server.receivedCommands()?.filter((c) => c.startsWith('STAT ')) ?? null;

      test(
        'listEntries: the same files, with MLSD times where the server has MLSD',
        { timeout: scaled(60_000) },
        async () => {
          const client = new AsyncFTPClient(options);
          const plain = new AsyncFTPClient(options);
          try {
            const seen = stats()?.length ?? 0;
            const entries = await client.listEntries('/L2', { recursive: true });
            // the date levels above the files went by STAT
            const sent = stats()?.slice(seen);
            if (sent !== undefined) assert.ok(sent.includes('STAT /L2/RMA1'), sent.join());
            const before = await plain.listEntries('/L2', { recursive: true, controlListing: false });
            assert.deepEqual(entries, before);
            assert.equal(entries[0]?.modifiedAtPrecisionMs, server.supportsMlsd ? 1000 : 60_000);
          } finally {
            await client.disconnect();
            await plain.disconnect();
          }
        },
      );

      test('a missing folder: the same outcome as without STAT', { timeout: scaled(60_000) }, async () => {
        const outcome = async (controlListing: boolean): Promise<string> => {
          const client = new AsyncFTPClient(options);
          try {
            return JSON.stringify(await client.listFiles('/L2/NOPE', { recursive: true, controlListing }));
          } catch (err) {
            return (err as Error).constructor.name;
          } finally {
            await client.disconnect();
          }
        };
        const seen = stats()?.length ?? 0;
        assert.equal(await outcome(true), await outcome(false));
        const sent = stats()?.slice(seen);
        if (sent !== undefined) assert.deepEqual(sent, ['STAT /L2/NOPE']);
      });
    },
  );
}
