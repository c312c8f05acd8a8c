/**
 * A plain login is one round trip after the greeting: USER, PASS, FEAT and the settings go out in
 * one flight (src/ftp/login-pipeline.ts), on the embedded server and every Debian server here.
 * Counted through a relay that holds the server's bytes (test/helpers/flight-relay.ts); the
 * server's own log says it got the commands in that order, a binary file with CR LF bytes comes
 * back unchanged (TYPE I took effect) and a wrong password is still the server's refusal.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AsyncFTPClient } from '../../src/ftp/client.js';
import { FtpReplyError, FtpTimeoutError } from '../../src/errors.js';
import { DEBIAN_SERVER_KINDS, debianServerAvailable, startDebianServer } from '../helpers/debian-servers.js';
import { startEmbeddedFtp } from '../helpers/embedded-ftp.js';
import { startFlightRelay, startRelay } from '../helpers/flight-relay.js';
import { loginTo, type FtpTestServer } from '../helpers/ftp-login.js';
import { scaled } from '../helpers/wait.js';

interface Served extends FtpTestServer {
  /** Command verbs the server received, in order (null: the server logs none). */
  verbs(): string[] | null;
  stop(): Promise<void>;
}

const SLOW = scaled(30_000);
const TIMEOUTS = { connectMs: SLOW, commandMs: SLOW, dataStallMs: SLOW };
/** Bytes a text-mode transfer would change (CR LF, lone LF, lone CR). */
const BINARY = Buffer.from([0x0d, 0x0a, 0x41, 0x0a, 0x42, 0x0d, 0x00, 0xff, 0x0d, 0x0a]);

function checks(start: (root: string) => Promise<Served>): void {
  let work: string;
  let server: Served;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'radarlib-login-pipeline-'));
    await mkdir(join(work, 'root'), { mode: 0o755 });
    await writeFile(join(work, 'root', 'crlf.BUFR'), BINARY, { mode: 0o644 });
    server = await start(join(work, 'root'));
  });
  after(async () => {
    await server?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  void test('USER, PASS, FEAT and the settings go out in one flight, in that order', async () => {
    const relay = await startFlightRelay(server.port);
    try {
      const client = new AsyncFTPClient({
        ...loginTo(server),
        port: relay.port,
        maxConnections: 1,
        timeouts: TIMEOUTS,
      });
      try {
        await client.connect();
        const [flights] = relay.flights();
        const verbs = server.verbs();
        const seen = `client flights ${String(flights)}; server saw ${verbs?.join(' ') ?? '(not logged)'}`;
        // one flight after the greeting (it was four: USER, PASS, FEAT, then the settings)
        assert.equal(flights, 1, seen);
        if (verbs !== null)
          assert.deepEqual(verbs.slice(0, 6), ['USER', 'PASS', 'FEAT', 'TYPE', 'OPTS', 'OPTS'], seen);
        // the session works and is binary
        const local = join(work, 'local');
        await client.downloadFile('/crlf.BUFR', local);
        assert.deepEqual(await readFile(join(local, 'crlf.BUFR')), BINARY);
      } finally {
        await client.disconnect();
      }
    } finally {
      await relay.close();
    }
  });

  void test('a wrong password is the server’s refusal (530), not a closed connection', async () => {
    const client = new AsyncFTPClient({
      ...loginTo(server),
      password: 'not-the-password',
      timeouts: TIMEOUTS,
    });
    try {
      await assert.rejects(
        client.connect(),
        (err: unknown) => err instanceof FtpReplyError && err.replyCode === 530,
      );
    } finally {
      client.destroy();
    }
  });
}

void describe('pipelined login · embedded', () => {
  checks(async (root) => {
    const s = await startEmbeddedFtp({ root });
    return {
      host: s.host,
      port: s.port,
      user: s.user,
      password: s.password,
      verbs: () => s.commands.map((c) => c.directive),
      stop: () => s.stop(),
    };
  });
});

for (const kind of DEBIAN_SERVER_KINDS) {
  const unavailable = debianServerAvailable(kind);
  void describe(`pipelined login · ${kind}`, { skip: unavailable ?? false }, () => {
    checks(async (root) => {
      const s = await startDebianServer(kind, { root });
      return {
        host: s.host,
        port: s.port,
        user: s.user,
        password: s.password,
        // proftpd logs `OPTS UTF8` as OPTS_UTF8
        verbs: () => s.receivedCommands()?.map((c) => /^[A-Z]+/.exec(c)?.[0] ?? c) ?? null,
        stop: () => s.stop(),
      };
    });
  });
}

/**
 * A relay that passes only the first line of each write from the client, as an FTP-aware
 * middlebox that loses pipelined commands does; counts the lines it dropped.
 */
async function startLossyRelay(
  port: number,
): Promise<{ port: number; dropped(): number; close(): Promise<void> }> {
  let dropped = 0;
  const relay = await startRelay(port, () => ({
    fromClient: (chunk, toServer) => {
      const lines = chunk
        .toString('latin1')
        .split('\r\n')
        .filter((l) => l !== '');
      dropped += lines.length - 1;
      toServer(Buffer.from(`${lines[0] ?? ''}\r\n`, 'latin1'));
    },
    fromServer: (chunk, toClient) => toClient(chunk),
  }));
  return { ...relay, dropped: () => dropped };
}

void test('a login whose pipelined commands are lost times out once; later logins go one command at a time', async () => {
  const work = await mkdtemp(join(tmpdir(), 'radarlib-login-lossy-'));
  await mkdir(join(work, 'root'), { mode: 0o755 });
  await writeFile(join(work, 'root', 'crlf.BUFR'), BINARY, { mode: 0o644 });
  const server = await startEmbeddedFtp({ root: join(work, 'root') });
  const relay = await startLossyRelay(server.port);
  const connectMs = scaled(1_500);
  const client = new AsyncFTPClient({
    host: server.host,
    port: relay.port,
    username: server.user,
    password: server.password,
    maxConnections: 2,
    timeouts: { connectMs, commandMs: SLOW, dataStallMs: SLOW },
  });
  try {
    // the first login's PASS, FEAT and settings never arrive
    await assert.rejects(
      client.connect(),
      (err: unknown) => err instanceof FtpTimeoutError && err.phase === 'connect',
    );
    const lostFirst = relay.dropped();
    assert.ok(lostFirst >= 5, `lines dropped on the first login: ${lostFirst}`);
    // the next login sends each command after the previous reply: nothing to lose, and it works
    await client.connect();
    await client.downloadFile('/crlf.BUFR', join(work, 'local'));
    assert.deepEqual(await readFile(join(work, 'local', 'crlf.BUFR')), BINARY);
    assert.equal(relay.dropped(), lostFirst, 'no command lost after the first login');
    const verbs = server.commands.map((c) => c.directive);
    const second = verbs.lastIndexOf('USER');
    assert.deepEqual(
      verbs.slice(second, second + 6),
      ['USER', 'PASS', 'FEAT', 'TYPE', 'OPTS', 'OPTS'],
      verbs.join(' '),
    );
  } finally {
    client.destroy();
    await relay.close();
    await server.stop();
    await rm(work, { recursive: true, force: true });
  }
});
