/**
 * How many round trips an FTPS login costs, against real servers. Between the client and the
 * server sits a TCP relay that holds every server-to-client chunk for a while, so each time the
 * client has to wait for the server shows as a new *flight* (bytes from the client after bytes
 * from the server were delivered to it). TLS leaves the count readable: it counts turns, not
 * commands.
 *
 * Explicit FTPS must cost only what TLS itself needs over a plain login: `AUTH TLS` and the
 * handshake. `PBSZ 0` and `PROT P` ride along with the pipelined settings (connection.ts logIn);
 * sent one by one after them they were two round trips more per connection (≈ 100 ms per login
 * on a 50 ms WAN). And once a server chose its key-exchange group, later handshakes offer that
 * one first: vsftpd answers the default guess (X25519) with a HelloRetryRequest, one more round
 * trip on each handshake, the data connections' included.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AsyncFTPClient } from '../../src/ftp/client.js';
import type { AsyncFTPClientOptions } from '../../src/ftp/types.js';
import {
  debianServerAvailable,
  startDebianServer,
  type DebianServer,
  type DebianServerKind,
} from '../helpers/debian-servers.js';
import { startFlightRelay } from '../helpers/flight-relay.js';
import { loginTo } from '../helpers/ftp-login.js';
import { scaled } from '../helpers/wait.js';

/** Client flights of two logins (`connect()`, `disconnect()`, `connect()`) of one client. */
async function loginFlights(
  server: DebianServer,
  extra: Partial<AsyncFTPClientOptions>,
): Promise<[number, number]> {
  const relay = await startFlightRelay(server.port);
  try {
    const slow = scaled(30_000);
    const client = new AsyncFTPClient({
      ...loginTo(server),
      port: relay.port,
      maxConnections: 1,
      timeouts: { connectMs: slow, commandMs: slow, dataStallMs: slow },
      ...extra,
    });
    try {
      await client.connect();
      const [first = 0] = relay.flights();
      await client.disconnect();
      await client.connect();
      const [, second = 0] = relay.flights();
      return [first, second];
    } finally {
      await client.disconnect();
    }
  } finally {
    await relay.close();
  }
}

// proftpd and vsftpd: the servers that take every pipelined setting (pyftpdlib refuses one, so
// the client sends the ones that matter again, alone; pure-ftpd behaves like these two)
const KINDS: DebianServerKind[] = ['proftpd', 'vsftpd'];

for (const kind of KINDS) {
  const unavailable = debianServerAvailable(kind, { tls: true });
  void describe(`FTPS login round trips · ${kind}`, { skip: unavailable ?? false }, () => {
    let work: string;
    let server: DebianServer;
    before(async () => {
      work = await mkdtemp(join(tmpdir(), 'radarlib-ftps-login-'));
      await mkdir(join(work, 'root'), { mode: 0o755 });
      server = await startDebianServer(kind, { root: join(work, 'root'), tls: 'explicit' });
    });
    after(async () => {
      await server?.stop();
      if (work !== undefined) await rm(work, { recursive: true, force: true });
    });

    void test('explicit FTPS costs two round trips over a plain login: AUTH TLS and the handshake', async () => {
      const plain = await loginFlights(server, {});
      const secure = await loginFlights(server, { secure: 'explicit', tls: { ca: server.tlsCertPem } });
      const seen =
        `client flights (first, second login): plain ${plain.join(', ')}, FTPS ${secure.join(', ')}; ` +
        `commands the server saw: ${server.receivedCommands()?.join(', ') ?? '(not logged)'}`;
      assert.equal(plain[0], plain[1], seen);
      // the first handshake may take one more: a server that wants another key-exchange group
      // than the one the client guessed asks again (vsftpd: P-256 only)
      assert.ok(secure[0] - plain[0] === 2 || secure[0] - plain[0] === 3, seen);
      // from then on the client offers the group the server chose
      assert.equal(secure[1] - plain[1], 2, seen);
    });
  });
}
