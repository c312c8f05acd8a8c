/**
 * A caller waiting for a connection is not forgotten when the connection being opened ahead of it
 * fails (the server refuses, resets or does not answer): it tries to open one itself. Before, only
 * a released connection woke it; when no other caller came (the daemon stops claiming while the
 * server is unreachable) its download hung for ever, and so did the daemon's cycle.
 * Embedded server behind the fault proxy, which refuses every connection while told to.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveServer } from '../../src/ftp/connection.js';
import { FtpConnectionPool } from '../../src/ftp/pool.js';
import { startEmbeddedFtp } from '../helpers/embedded-ftp.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { scaled, sleep } from '../helpers/wait.js';

test('a caller waiting for a connection opens one itself when the open ahead of it fails', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'radarlib-pool-failed-open-'));
  const server = await startEmbeddedFtp({ root });
  const proxy = await startFaultProxy({ upstreamHost: server.host, upstreamPort: server.port, refuse: true });
  const pool = new FtpConnectionPool(
    resolveServer({
      host: proxy.host,
      port: proxy.port,
      username: server.user,
      password: server.password,
      maxConnections: 1,
    }),
  );
  t.after(async () => {
    pool.destroy();
    await proxy.stop();
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  });
  const ctx = { host: proxy.host, port: proxy.port, command: 'NOOP' };
  const noop = async (c: { send(cmd: string): Promise<unknown> }): Promise<string> => {
    await c.send('NOOP');
    return 'ok';
  };
  const settle = (p: Promise<string>): Promise<string> =>
    p.then(
      (v) => v,
      (err: unknown) => `rejected: ${(err as Error).message}`,
    );

  // The first caller opens the one connection allowed; the second waits for it. Both are refused.
  const first = settle(pool.use(noop, ctx));
  const second = settle(pool.use(noop, ctx));
  const waited = scaled(10_000);
  const outcome = await Promise.race([Promise.all([first, second]), sleep(waited).then(() => null)]);
  assert.ok(outcome !== null, `both callers settled within ${waited} ms (the second was left waiting)`);
  assert.match(outcome[0], /^rejected: FTP connect/);
  assert.match(outcome[1], /^rejected: FTP connect/);
  assert.equal(proxy.stats.refused, 2, 'the second caller tried to connect itself');

  // The server is back: the pool works.
  proxy.setRules({ refuse: false });
  assert.equal(await pool.use(noop, ctx), 'ok');
});
