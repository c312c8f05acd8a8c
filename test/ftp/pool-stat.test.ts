/**
 * src/ftp/pool.ts and a walk's STAT (client.ts, the StatBatcher's run) against the embedded FTP
 * server behind a relay that holds one connection's EPSV/PASV reply (test/helpers/reply-gate.ts):
 * while that connection prepares its data connection, a STAT goes out on another idle
 * connection and does not wait for that set-up (on the WAN 100–150 ms at a walk's 5th level).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Client } from 'basic-ftp';
import type { FtpErrorContext } from '../../src/errors.js';
import { resolveServer } from '../../src/ftp/connection.js';
import { FtpConnectionPool } from '../../src/ftp/pool.js';
import { startEmbeddedFtp, type EmbeddedFtpServer } from '../helpers/embedded-ftp.js';
import { startReplyGate, type ReplyGate } from '../helpers/reply-gate.js';
import { scaled, waitUntil } from '../helpers/wait.js';

let root: string;
let server: EmbeddedFtpServer;
let gate: ReplyGate;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'radarlib-pool-stat-'));
  writeFileSync(join(root, 'a.BUFR'), 'volume');
  server = await startEmbeddedFtp({ root });
  let held = 0;
  gate = await startReplyGate({
    upstreamHost: server.host,
    upstreamPort: server.port,
    holdListingOf: () => false,
    // only the first data connection's set-up waits (until release())
    holdReplyTo: (command) => /^(EPSV|PASV)$/i.test(command) && held++ === 0,
    maxHoldMs: scaled(10_000),
  });
});
after(async () => {
  await gate.stop();
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

const ctx = (command: string): FtpErrorContext => ({ host: gate.host, port: gate.port, command });

test('a STAT takes an idle connection without a data connection being prepared, not waiting for that set-up', async () => {
  const pool = new FtpConnectionPool(
    resolveServer({
      host: gate.host,
      port: gate.port,
      username: server.user,
      password: server.password,
      maxConnections: 2,
    }),
  );
  try {
    await Promise.all([1, 2].map(() => pool.use(async () => undefined, ctx('connect'))));
    // one connection busy while a walk is announced: the idle one prepares (its EPSV held)
    let free = (): void => undefined;
    const busy = pool.use(
      async (client) => (await new Promise<void>((resolve) => (free = resolve)), client),
      ctx('LIST'),
    );
    const endWalk = pool.expectTransfers();
    await waitUntil('the idle connection EPSV held', Date.now() + scaled(10_000), () =>
      gate.holding === 1 ? true : undefined,
    );
    endWalk();
    free();
    const plain = await busy; // back idle with no data connection (no walk expected now)
    const stat = await pool.use(
      async (client: Client) => (await client.send('STAT /'), client),
      ctx('STAT'),
      undefined,
      true,
    );
    assert.equal(stat, plain, 'STAT went out on the connection not preparing a data connection');
    assert.equal(gate.holding, 1, 'the other connection still waits for its EPSV reply');
    assert.deepEqual(gate.released, []);
  } finally {
    gate.release();
    await pool.close();
  }
});
