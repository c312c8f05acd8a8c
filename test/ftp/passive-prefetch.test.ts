/**
 * The next transfer's EPSV sent while a transfer runs (src/ftp/data-connection/prefetch.ts), on every
 * server the suite has: used on the server that queues it (vsftpd), never sent to the others
 * (proftpd answers 450 and pure-ftpd 500 during the transfer, pyftpdlib and ftp-srv act on it).
 * One connection, transfers slowed down by the server so the EPSV surely arrives mid-transfer,
 * with listings and a SIZE mixed in (the prefetch stays good across the SIZE: the server's
 * passive listener is untouched). Every file's bytes are checked.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from 'basic-ftp';
import { openConnection, resolveServer } from '../../src/ftp/connection.js';
import { downloadAtomically } from '../../src/ftp/download.js';
import { prefetchesUsed, queuesCommandsDuringTransfer } from '../../src/ftp/data-connection/index.js';
import { startEmbeddedFtpServer } from '../../src/demo/embedded-ftp-server.js';
import { makeRadarDataset, type DatasetFile } from '../helpers/dataset.js';
import { sha256File } from '../helpers/hash.js';
import { DEBIAN_SERVER_KINDS, debianServerAvailable, startDebianServer } from '../helpers/debian-servers.js';

/** Bytes/s per data connection: a 100–300 KB file lasts long enough to carry the EPSV. */
const RATE = 1_000_000;

interface Target {
  host: string;
  port: number;
  user: string;
  password: string;
  stop: () => Promise<void>;
}

async function download(client: Client, file: DatasetFile, dir: string): Promise<string> {
  return downloadAtomically(
    client,
    {
      remotePath: `/${file.relPath}`,
      localDir: dir,
      localName: file.relPath.split('/').pop() as string,
      size: file.size,
      modifiedAt: null,
      resume: false,
      dataStallMs: 20_000,
    },
    { host: '127.0.0.1', port: 0, command: 'RETR' },
  );
}

function suite(
  name: string,
  skip: string | null,
  start: (root: string, rate: number | undefined) => Promise<Target>,
  queues: boolean,
  rate: number | undefined,
): void {
  describe(
    `${name}${rate === undefined ? '' : `, ${rate / 1e6} MB/s per transfer`}`,
    { skip: skip ?? false },
    () => {
      let work: string;
      let files: DatasetFile[];
      let target: Target;
      before(async () => {
        work = await mkdtemp(join(tmpdir(), 'radarlib-prefetch-'));
        files = await makeRadarDataset(join(work, 'data'), {
          volumes: 2,
          layout: 'flat',
          sizeMin: 100_000,
          sizeMax: 300_000,
        });
        // a folder whose listing is one line: its 150 and 226 come in one packet
        await mkdir(join(work, 'data', 'one'));
        await writeFile(join(work, 'data', 'one', 'x.BUFR'), 'BUFR');
        target = await start(join(work, 'data'), rate);
      });
      after(async () => {
        await target?.stop();
        await rm(work, { recursive: true, force: true });
      });

      test(
        `${queues ? 'uses' : 'never sends'} the prefetched EPSV; every file complete`,
        { timeout: 60_000 },
        async () => {
          const server = resolveServer({
            host: target.host,
            port: target.port,
            username: target.user,
            password: target.password,
            timeouts: { connectMs: 10_000, commandMs: 10_000, dataStallMs: 20_000 },
          });
          const client = await openConnection(server);
          try {
            const dest = join(work, 'out');
            const [first, second, third, ...rest] = files as [
              DatasetFile,
              DatasetFile,
              DatasetFile,
              ...DatasetFile[],
            ];
            for (const f of [first, second])
              assert.equal(await sha256File(await download(client, f, dest)), f.sha256);
            // listings back to back take prefetched ports too
            for (let i = 0; i < 3; i++) {
              const listed = await client.list('/');
              assert.equal(listed.filter((e) => e.name.endsWith('.BUFR')).length, files.length);
              assert.deepEqual(
                (await client.list('/one')).filter((e) => e.name.endsWith('.BUFR')).map((e) => e.name),
                ['x.BUFR'],
              );
            }
            // a SIZE in between (perhaps before the prefetch's reply is in) leaves it usable
            assert.equal(await client.size(`/${third.relPath}`), third.size);
            assert.equal(await sha256File(await download(client, third, dest)), third.sha256);
            for (const f of rest) assert.equal(await sha256File(await download(client, f, dest)), f.sha256);
            const transfers = files.length + 6;
            // no prefetch for the first transfer (the passive mode is still being found); all
            // others on a queueing server
            assert.equal(prefetchesUsed(client.ftp), queues ? transfers - 1 : 0);
            assert.equal((await client.send('NOOP')).code, 200, 'the session is still in step');
          } finally {
            client.close();
          }
        },
      );
    },
  );
}

// Slowed down: the EPSV arrives while the data flows. Full speed: a short LIST's 150 and 226
// arrive together, before the EPSV went out, so the next transfer asks for the prefetched port
// before its 229 is in (it must wait for it, not take the reply for lost).
for (const rate of [RATE, undefined]) {
  for (const kind of DEBIAN_SERVER_KINDS) {
    suite(
      `${kind} (real Debian server)`,
      debianServerAvailable(kind),
      async (root, rateLimit) => {
        const srv = await startDebianServer(kind, {
          root,
          ...(rateLimit === undefined ? {} : { rateLimit }),
        });
        return { ...srv, stop: () => srv.stop() };
      },
      kind === 'vsftpd',
      rate,
    );
  }
}

suite(
  'embedded ftp-srv',
  null,
  async (root) => {
    const srv = await startEmbeddedFtpServer({ root });
    return { ...srv, stop: () => srv.stop() };
  },
  false,
  undefined,
);

test('greetings that allow a prefetch', () => {
  assert.ok(queuesCommandsDuringTransfer('220 (vsFTPd 3.0.3)'));
  assert.ok(!queuesCommandsDuringTransfer('220 ProFTPD Server (Debian) [::ffff:10.0.0.1]'));
  assert.ok(
    !queuesCommandsDuringTransfer('220---------- Welcome to Pure-FTPd [privsep] ----------\n220 bye'),
  );
  assert.ok(!queuesCommandsDuringTransfer('220 pyftpdlib 1.5.7 ready.'));
  assert.ok(!queuesCommandsDuringTransfer('220 Microsoft FTP Service'));
});
