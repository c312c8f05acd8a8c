/**
 * src/ftp/pool.ts and the next transfer's EPSV prefetched during a transfer
 * (src/ftp/data-connection/prefetch.ts, vsftpd only), on the real vsftpd: a command without a
 * data connection (SIZE) takes an idle connection that holds no prefetched reply when there is
 * one, leaving that one to the transfers. When there is none (one connection; in a walk the
 * others still logging in), SIZE, MDTM, NOOP and STAT go out on it and its next transfer still
 * uses the prefetched reply: they made it stale before, and the transfer sent a fresh EPSV (a
 * round trip and a server-side listener wasted: test/ftp/debian-servers-stat.test.ts, 14
 * EPSV for 13 under load).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from 'basic-ftp';
import type { FtpErrorContext } from '../../src/errors.js';
import { resolveServer } from '../../src/ftp/connection.js';
import { prefetchesUsed } from '../../src/ftp/data-connection/index.js';
import { statFolders } from '../../src/ftp/control-listing.js';
import { FtpConnectionPool } from '../../src/ftp/pool.js';
import { debianServerAvailable, startDebianServer, type DebianServer } from '../helpers/debian-servers.js';
import { scaled } from '../helpers/wait.js';

describe(
  'pool on vsftpd (prefetched passive replies)',
  { skip: debianServerAvailable('vsftpd') ?? false },
  () => {
    let root: string;
    let server: DebianServer;
    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'radarlib-pool-prefetch-'));
      await writeFile(join(root, 'a.BUFR'), 'volume');
      await mkdir(join(root, 'f'));
      await writeFile(join(root, 'f', 'b.BUFR'), 'volume');
      server = await startDebianServer('vsftpd', { root });
    });
    after(async () => {
      await server?.stop();
      await rm(root, { recursive: true, force: true });
    });

    const ctx = (command: string): FtpErrorContext => ({ host: server.host, port: server.port, command });
    const list = async (client: Client): Promise<Client> => (await client.list('/'), client);
    const poolOf = (maxConnections: number): FtpConnectionPool =>
      new FtpConnectionPool(
        resolveServer({
          host: server.host,
          port: server.port,
          username: server.user,
          password: server.password,
          maxConnections,
          timeouts: { connectMs: scaled(10_000), commandMs: scaled(10_000), dataStallMs: scaled(20_000) },
        }),
      );

    test('a SIZE leaves the connection holding a prefetched EPSV reply to its next transfer', async () => {
      const pool = poolOf(2);
      try {
        await Promise.all([1, 2].map(() => pool.use(async () => undefined, ctx('connect'))));
        // a listing's 150 sends the next EPSV (answered after its 226): its connection holds that
        // reply, the other connection nothing
        const lister = await pool.use(list, ctx('LIST'));
        const used = prefetchesUsed(lister.ftp);
        const asked = await pool.use(
          async (client) => (await client.send('SIZE /a.BUFR'), client),
          ctx('SIZE'),
        );
        assert.notEqual(asked, lister, 'SIZE went out on the connection without a prefetched reply');
        // one listing on each connection at once: the lister's uses its prefetched reply
        const listers = await Promise.all([1, 2].map(() => pool.use(list, ctx('LIST'))));
        assert.ok(listers.includes(lister), 'a listing on each connection');
        assert.equal(prefetchesUsed(lister.ftp), used + 1, 'the prefetched EPSV reply was used');
      } finally {
        await pool.close();
      }
    });

    test('commands without a data connection on the one connection leave its prefetched reply usable', async () => {
      // (the 14 EPSV for 13 of debian-servers-stat.test.ts under load: the walk's other
      // connections still logging in, the SIZEs after it all went to the connection that had
      // just listed, and its next RETR sent a fresh EPSV)
      const pool = poolOf(1);
      const seen = server.receivedCommands()?.length ?? 0;
      try {
        const lister = await pool.use(list, ctx('LIST'));
        const used = prefetchesUsed(lister.ftp);
        await pool.use(async (client) => {
          assert.equal((await client.send('SIZE /a.BUFR')).code, 213);
          assert.equal((await client.send('MDTM /a.BUFR')).code, 213);
          assert.equal((await client.send('NOOP')).code, 200);
          const [outcome] = await statFolders(client.ftp, ['/f']);
          assert.equal(outcome?.kind, 'listing');
        }, ctx('SIZE'));
        const again = await pool.use(list, ctx('LIST'));
        assert.equal(again, lister);
        assert.equal(prefetchesUsed(lister.ftp), used + 1, 'the prefetched EPSV reply was used');
      } finally {
        await pool.close();
      }
      const commands = server.receivedCommands()?.slice(seen) ?? [];
      // one EPSV per listing, and the one the last listing prefetched
      assert.equal(commands.filter((c) => c === 'EPSV').length, 3, commands.join());
    });
  },
);
