/**
 * A walk's STAT (src/ftp/control-listing.ts) on a vsftpd connection whose prefetched EPSV reply
 * (src/ftp/data-connection/prefetch.ts) is still on its way: STAT reads its replies raw, so a
 * `229` arriving after it went out was read as the start of the STAT's reply. The folder then
 * came back unusable (listed again by a data connection) and the prefetch never saw its reply:
 * the connection's next transfer waited for it until the command timeout and closed the session.
 * A relay holds the `229` back a while: the STAT must wait for that reply before it goes out.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openConnection, resolveServer } from '../../src/ftp/connection.js';
import { statFolders } from '../../src/ftp/control-listing.js';
import { prefetchesUsed } from '../../src/ftp/data-connection/index.js';
import { debianServerAvailable, startDebianServer, type DebianServer } from '../helpers/debian-servers.js';
import { startRelay } from '../helpers/flight-relay.js';
import { scaled } from '../helpers/wait.js';

/** How long the prefetch's reply is held (the client sends a STAT in the same tick as it gets the 226). */
const HOLD_MS = scaled(200);

describe('STAT after a prefetched EPSV on vsftpd', { skip: debianServerAvailable('vsftpd') ?? false }, () => {
  let root: string;
  let server: DebianServer;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'radarlib-stat-prefetch-'));
    await mkdir(join(root, 'f'));
    await writeFile(join(root, 'f', 'a.BUFR'), 'volume');
    server = await startDebianServer('vsftpd', { root });
  });
  after(async () => {
    await server?.stop();
    await rm(root, { recursive: true, force: true });
  });

  test('the STAT waits for the prefetched reply; both are used', { timeout: scaled(30_000) }, async () => {
    // the server's bytes from the prefetch's `229` (the first after a `226`: the first transfer's
    // own EPSV is answered before its listing starts) reach the client once its STAT went out, or
    // after HOLD_MS
    let held: Buffer[] | undefined;
    let release = (): void => undefined;
    let after226 = false;
    let done = false;
    let statSent = false;
    const relay = await startRelay(server.port, () => ({
      fromClient: (chunk, toServer) => {
        toServer(chunk);
        if (!/^STAT /m.test(chunk.toString('latin1'))) return;
        statSent = true;
        release();
      },
      fromServer: (chunk, toClient) => {
        if (held !== undefined) {
          held.push(chunk);
          return;
        }
        const text = chunk.toString('latin1');
        const at = done ? -1 : text.search(/^229 /m);
        if (at < 0 || !(after226 || /^226 /m.test(text.slice(0, at)))) {
          after226 ||= /^226 /m.test(text);
          toClient(chunk);
          return;
        }
        done = true;
        toClient(chunk.subarray(0, at));
        held = [chunk.subarray(at)];
        release = () => {
          const bytes = held ?? [];
          held = undefined;
          for (const b of bytes) toClient(b);
        };
        // (the STAT went out before the server even sent the 229: it reaches the client after it)
        if (statSent) release();
        // a client that waits for the 229 gets it a little later
        else setTimeout(release, HOLD_MS);
      },
    }));
    const client = await openConnection(
      resolveServer({
        host: server.host,
        port: relay.port,
        username: server.user,
        password: server.password,
        timeouts: { connectMs: scaled(10_000), commandMs: scaled(5_000), dataStallMs: scaled(20_000) },
      }),
    );
    try {
      await client.list('/f');
      const [outcome] = await statFolders(client.ftp, ['/f']);
      assert.equal(outcome?.kind, 'listing', JSON.stringify(outcome));
      assert.deepEqual(
        (await client.list('/f')).map((e) => e.name),
        ['a.BUFR'],
      );
      assert.equal(prefetchesUsed(client.ftp), 1, 'the second listing used the prefetched reply');
    } finally {
      client.close();
      await relay.close();
    }
  });
});
