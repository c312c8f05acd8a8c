/**
 * src/ftp/pool.ts against the embedded FTP server (real FTP over loopback TCP): lazy and bounded,
 * reply errors keep the connection while aborts replace it, 421 lowers the cap, listings jump the
 * queue, and the two ways of closing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import type { Client } from 'basic-ftp';
import { AbortedError, FtpClosedError, FtpReplyError, type FtpErrorContext } from '../../src/errors.js';
import { resolveServer } from '../../src/ftp/connection.js';
import { FtpConnectionPool } from '../../src/ftp/pool.js';
import { startEmbeddedFtp, type EmbeddedFtpServer } from '../helpers/embedded-ftp.js';
import { scaled, sleep, waitUntil } from '../helpers/wait.js';

let root: string;
let server: EmbeddedFtpServer;
let busyServer: EmbeddedFtpServer;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'radarlib-pool-'));
  writeFileSync(join(root, 'a.BUFR'), 'volume');
  writeFileSync(join(root, 'stall.BUFR'), 'never sent');
  server = await startEmbeddedFtp({ root, stall: (path) => path.includes('stall') });
  busyServer = await startEmbeddedFtp({ root, maxConnections: 1 });
});
after(async () => {
  await server.stop();
  await busyServer.stop();
  rmSync(root, { recursive: true, force: true });
});

function poolFor(s: EmbeddedFtpServer, maxConnections: number): FtpConnectionPool {
  return new FtpConnectionPool(
    resolveServer({ host: s.host, port: s.port, username: s.user, password: s.password, maxConnections }),
  );
}

function ctx(s: EmbeddedFtpServer, command = 'LIST'): FtpErrorContext {
  return { host: s.host, port: s.port, command, remotePath: '/' };
}

/**
 * Resolves once the transfer's data connection is open, and the server has had a moment to take
 * it: cutting the control connection while the server is still accepting the data connection
 * trips an unhandled rejection inside ftp-srv (passive.js: dataSocket is null).
 */
async function dataConnectionOpen(client: Client): Promise<void> {
  await waitUntil(
    'the data connection',
    Date.now() + scaled(5000),
    () => client.ftp.dataSocket?.remoteAddress,
    5,
  );
  await sleep(50);
}

/** Lists `/` and holds the connection a little, so uses overlap. */
async function listSlowly(client: Client): Promise<string[]> {
  const names = (await client.list('/')).map((e) => e.name).sort();
  await sleep(50);
  return names;
}

test('connections open lazily and never beyond the cap', async () => {
  const pool = poolFor(server, 2);
  assert.equal(pool.stats.open, 0, 'nothing opened before the first use');
  const results = await Promise.all(Array.from({ length: 6 }, () => pool.use(listSlowly, ctx(server))));
  assert.deepEqual(
    results,
    Array.from({ length: 6 }, () => ['a.BUFR', 'stall.BUFR']),
  );
  assert.equal(pool.stats.peakBusy, 2);
  assert.equal(pool.stats.open, 2);
  assert.equal(pool.stats.idle, 2);
  await pool.close();
  assert.equal(pool.stats.open, 0);
});

test('a reply error keeps the connection; an abort replaces it', async () => {
  const pool = poolFor(server, 1);
  let first: Client | undefined;
  await assert.rejects(
    pool.use(
      async (client) => {
        first = client;
        await client.send('CWD /no-such-folder');
      },
      ctx(server, 'CWD'),
    ),
    (err: unknown) => err instanceof FtpReplyError && err.replyCode === 550,
  );
  assert.equal(await pool.use(async (client) => client === first, ctx(server)), true, 'same connection');

  const controller = new AbortController();
  await assert.rejects(
    pool.use(
      async (client) => {
        // The server never sends this file's data: only the abort ends the transfer.
        const transfer = client.downloadTo(new PassThrough(), '/stall.BUFR');
        await dataConnectionOpen(client);
        controller.abort(new Error('operator stop'));
        await transfer;
      },
      ctx(server),
      controller.signal,
    ),
    AbortedError,
  );
  assert.equal(first?.closed, true, 'the aborted connection was closed');
  assert.equal(await pool.use(async (client) => client !== first && !client.closed, ctx(server)), true);
  await pool.close();
});

test('an aborted signal is refused before any connection opens', async () => {
  const pool = poolFor(server, 1);
  await assert.rejects(pool.use(listSlowly, ctx(server), AbortSignal.abort()), AbortedError);
  assert.equal(pool.stats.open, 0);
  await pool.close();
});

test('421 "too many connections" lowers the cap to what the server accepted; all work still finishes', async () => {
  const pool = poolFor(busyServer, 3);
  const results = await Promise.all(Array.from({ length: 4 }, () => pool.use(listSlowly, ctx(busyServer))));
  assert.equal(results.length, 4);
  assert.equal(pool.stats.limit, 1);
  assert.equal(pool.stats.peakBusy, 1);
  await pool.close();
});

test('priority work (listings) is handed the next free connection before queued transfers', async () => {
  const pool = poolFor(server, 1);
  const order: string[] = [];
  const holder = pool.use(listSlowly, ctx(server));
  await sleep(10);
  const transfers = [1, 2].map((n) =>
    pool.use(async () => void order.push(`transfer ${n}`), ctx(server, 'RETR')),
  );
  const listing = pool.use(async () => void order.push('listing'), ctx(server), undefined, true);
  await Promise.all([holder, listing, ...transfers]);
  assert.deepEqual(order, ['listing', 'transfer 1', 'transfer 2']);
  await pool.close();
});

test('close() waits for running work and refuses new work; destroy() aborts running work', async () => {
  const pool = poolFor(server, 2);
  let finished = false;
  const running = pool.use(async (client) => {
    await listSlowly(client);
    await sleep(100);
    finished = true;
  }, ctx(server));
  // Once it holds its connection: close() waits for busy connections, not for ones still logging in.
  await waitUntil(
    'the work to start',
    Date.now() + scaled(5000),
    () => (pool.stats.busy === 1 ? true : undefined),
    10,
  );
  const closing = pool.close();
  await assert.rejects(pool.use(listSlowly, ctx(server)), FtpClosedError);
  await closing;
  assert.equal(finished, true, 'close() resolved only after the running work finished');
  await running;
  await pool.close(); // idempotent

  const doomed = poolFor(server, 1);
  let stalled: Promise<void> | undefined;
  const cut = doomed.use(
    (client) => {
      const transfer = client.downloadTo(new PassThrough(), '/stall.BUFR');
      stalled = dataConnectionOpen(client);
      return transfer;
    },
    ctx(server, 'RETR'),
  );
  await waitUntil(
    'the transfer to start',
    Date.now() + scaled(5000),
    () => (stalled === undefined ? undefined : true),
    10,
  );
  await stalled;
  doomed.destroy();
  doomed.destroy(); // idempotent
  await assert.rejects(cut);
  assert.equal(doomed.stats.open, 0);
});
