/**
 * src/ftp/pool.ts, ready data connections (data-connection/ready.ts) against the embedded FTP
 * server: one that goes out with its connection for a command that does not use it (SIZE) and
 * comes back unused still expires READY_MAX_AGE_MS after it was opened, not at the 60 s idle
 * close; and such a command takes an idle connection without one when there is one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Client } from 'basic-ftp';
import type { FtpErrorContext } from '../../src/errors.js';
import { resolveServer } from '../../src/ftp/connection.js';
import { READY_MAX_AGE_MS } from '../../src/ftp/data-connection/index.js';
import { FtpConnectionPool } from '../../src/ftp/pool.js';
import { startEmbeddedFtp, type EmbeddedFtpServer } from '../helpers/embedded-ftp.js';
import { scaled, waitUntil } from '../helpers/wait.js';

let root: string;
let server: EmbeddedFtpServer;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'radarlib-pool-ready-'));
  writeFileSync(join(root, 'a.BUFR'), 'volume');
  server = await startEmbeddedFtp({ root });
});
after(async () => {
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

function poolOf(maxConnections: number): FtpConnectionPool {
  return new FtpConnectionPool(
    resolveServer({
      host: server.host,
      port: server.port,
      username: server.user,
      password: server.password,
      maxConnections,
    }),
  );
}

const ctx = (command: string): FtpErrorContext => ({ host: server.host, port: server.port, command });

const size = (client: Client): Promise<unknown> => client.send('SIZE /a.BUFR');

/** Until `n` idle connections hold a ready data connection (a walk is announced). */
async function readyIdle(pool: FtpConnectionPool, n: number): Promise<void> {
  await waitUntil(
    `${n} idle connections with their data connection ready`,
    Date.now() + scaled(10_000),
    () => (pool.stats.readyIdle === n ? true : undefined),
    { intervalMs: 10, seen: () => JSON.stringify(pool.stats) },
  );
}

test('a ready data connection a SIZE left unused expires as it would have idle, long before the idle close', async () => {
  const pool = poolOf(1);
  try {
    await pool.use(async () => undefined, ctx('connect'));
    const endWalk = pool.expectTransfers();
    await readyIdle(pool, 1);
    endWalk();
    // out for a command without a data connection, and back with the ready one unused
    await pool.use(size, ctx('SIZE'));
    assert.equal(pool.stats.readyIdle, 1, JSON.stringify(pool.stats));
    // ftp-srv may answer a dropped data connection unasked: the pool closes the whole connection,
    // which the server sees (the idle close would come only after 60 s)
    await waitUntil(
      `the server to see the connection closed (ready ${READY_MAX_AGE_MS} ms ago, idle close at 60 s)`,
      Date.now() + scaled(READY_MAX_AGE_MS + 5_000),
      () => (server.connectionCount === 0 ? true : undefined),
      { seen: () => `${JSON.stringify(pool.stats)}; server connections ${server.connectionCount}` },
    );
    assert.equal(pool.stats.readyIdle, 0);
    assert.equal(pool.stats.open, 0);
  } finally {
    await pool.close();
  }
});

test('a command without a data connection takes an idle connection with none ready when there is one', async () => {
  const pool = poolOf(2);
  try {
    await Promise.all([1, 2].map(() => pool.use(async () => undefined, ctx('connect'))));
    const endWalk = pool.expectTransfers();
    await readyIdle(pool, 2);
    endWalk();
    // a listing uses one connection's ready data connection: that one comes back without one
    const listed = await pool.use(async (client) => (await client.list('/'), client), ctx('LIST'));
    assert.equal(pool.stats.readyIdle, 1, JSON.stringify(pool.stats));
    const asked = await pool.use(async (client) => (await size(client), client), ctx('SIZE'));
    assert.equal(asked, listed, 'SIZE went out on the connection without a ready data connection');
    assert.equal(pool.stats.readyIdle, 1, 'the ready one is left for the next transfer');
  } finally {
    await pool.close();
  }
});
