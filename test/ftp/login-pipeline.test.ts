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
import { FtpReplyError } from '../../src/errors.js';
import { DEBIAN_SERVER_KINDS, debianServerAvailable, startDebianServer } from '../helpers/debian-servers.js';
import { startEmbeddedFtp } from '../helpers/embedded-ftp.js';
import { startFlightRelay } from '../helpers/flight-relay.js';
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
