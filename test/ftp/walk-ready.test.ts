/**
 * A recursive walk on a pool of connections (src/ftp/pool.ts `expectTransfers`,
 * src/ftp/data-connection/ready.ts, src/ftp/listing.ts `listFolder`): idle connections open their next
 * passive data connection before they know which folder they will list, and sub-folders are
 * listed from the moment the parent's data has arrived. On every real Debian server and the
 * embedded one (and over FTPS on ProFTPD and vsftpd, data connections resuming the TLS session), with a radar date tree (`/L2/RMA1/YYYY/MM/DD/HH/MMSS`): every file found once with
 * its size, the server's own log shows each folder listed once and no passive set-up beyond one
 * spare per connection, a SIZE sent while a data connection waits does not disturb it, the
 * files then downloaded whole (each RETR once), a folder that cannot be listed fails the walk
 * with a typed error (where the server refuses it), and a ready data connection left unused
 * goes away without a reply coming unasked: closed with its connection on the servers that
 * accept a data connection at once (pyftpdlib, ftp-srv), dropped alone on vsftpd and ProFTPD.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FtpReplyError } from '../../src/errors.js';
import { AsyncFTPClient } from '../../src/ftp/index.js';
import type { FtpServerOptions } from '../../src/ftp/types.js';
import { READY_MAX_AGE_MS } from '../../src/ftp/data-connection/index.js';
import { makeRadarDataset, type DatasetFile } from '../helpers/dataset.js';
import {
  DEBIAN_SERVER_KINDS,
  debianServerAvailable,
  startDebianServer,
  type DebianServerKind,
} from '../helpers/debian-servers.js';
import { startEmbeddedFtp } from '../helpers/embedded-ftp.js';
import { sha256File } from '../helpers/hash.js';
import { scaled, waitUntil } from '../helpers/wait.js';

const CONNECTIONS = 4;

interface Target {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Commands the server received (`MLSD /L2/RMA1`), null when it logs none (pure-ftpd). */
  commands(): string[] | null;
  logTail(): string;
  stop(): Promise<void>;
  /** With FTPS: the server's self-signed certificate. */
  tlsCa?: string;
}

type Kind = DebianServerKind | 'embedded';

/** Plain FTP on every server; FTPS (data connections must resume the TLS session) on two. */
const CASES: readonly { kind: Kind; tls: boolean }[] = [
  ...[...DEBIAN_SERVER_KINDS, 'embedded' as const].map((kind) => ({ kind, tls: false })),
  { kind: 'proftpd', tls: true },
  { kind: 'vsftpd', tls: true },
];
/**
 * Servers that refuse MLSD of a folder they cannot read (550). Their LIST of it can come back
 * empty with a 226; before listing.ts kept MLSD alone there, a walk on a connection that had not
 * listed yet (basic-ftp then falls back to LIST) reported the folder as empty: seen on both.
 */
const REFUSE_UNREADABLE: readonly Kind[] = ['proftpd', 'pureftpd'];
/**
 * Where a ready data connection left unused is shown to go away: with its control connection
 * on the servers that accept a data connection at once (pyftpdlib, ftp-srv), alone on those that
 * accept it with the transfer command (told by their greeting: src/ftp/data-connection/ready.ts). Not on
 * pure-ftpd (the same path as vsftpd and ProFTPD), to keep the file's 6 s waits few.
 */
const EXPIRY: Partial<Record<Kind, 'connection closed' | 'data connection dropped'>> = {
  pyftpdlib: 'connection closed',
  embedded: 'connection closed',
  proftpd: 'data connection dropped',
  vsftpd: 'data connection dropped',
};

async function start(kind: Kind, root: string, tls: boolean): Promise<Target> {
  if (kind === 'embedded') {
    const srv = await startEmbeddedFtp({ root });
    return {
      ...srv,
      commands: () => srv.commands.map((c) => (c.arg === null ? c.directive : `${c.directive} ${c.arg}`)),
      logTail: () => '',
      stop: () => srv.stop(),
    };
  }
  const srv = await startDebianServer(kind, { root, ...(tls ? { requireSslReuse: true } : {}) });
  return {
    host: srv.host,
    port: srv.port,
    user: srv.user,
    password: srv.password,
    commands: () => srv.receivedCommands(),
    logTail: () => srv.logTail(30),
    stop: () => srv.stop(),
    ...(srv.tlsCertPem === undefined ? {} : { tlsCa: srv.tlsCertPem }),
  };
}

function clientOptions(t: Target): FtpServerOptions {
  return {
    host: t.host,
    port: t.port,
    username: t.user,
    password: t.password,
    maxConnections: CONNECTIONS,
    ...(t.tlsCa === undefined ? {} : { secure: 'explicit' as const, tls: { ca: t.tlsCa } }),
    timeouts: { connectMs: scaled(10_000), commandMs: scaled(10_000), dataStallMs: scaled(20_000) },
  };
}

function newClient(t: Target): AsyncFTPClient {
  return new AsyncFTPClient(clientOptions(t));
}

/** Every folder of the data set's tree below (and with) /L2, as absolute remote paths. */
function folders(files: readonly DatasetFile[]): string[] {
  const all = new Set<string>();
  for (const f of files) {
    for (let d = dirname(`/${f.relPath}`); d !== '/'; d = dirname(d)) all.add(d);
  }
  return [...all].sort();
}

for (const { kind, tls } of CASES) {
  const unavailable = kind === 'embedded' ? null : debianServerAvailable(kind, { tls });
  const name = `recursive walk with ready data connections on ${kind}${tls ? ' over FTPS' : ''}`;
  describe(name, { skip: unavailable ?? false }, () => {
    let work: string;
    let files: DatasetFile[];
    let target: Target;
    before(async () => {
      work = await mkdtemp(join(tmpdir(), 'radarlib-walk-ready-'));
      files = await makeRadarDataset(join(work, 'data'), {
        volumes: 4,
        layout: 'tree',
        sizeMin: 2_000,
        sizeMax: 40_000,
      });
      target = await start(kind, join(work, 'data'), tls);
    });
    after(async () => {
      await target?.stop();
      await rm(work, { recursive: true, force: true });
    });

    test(
      'every file listed once and downloaded whole; the server log agrees',
      { timeout: scaled(60_000) },
      async () => {
        const client = newClient(target);
        const dest = join(work, 'out');
        try {
          // all connections logged in: the walk's idle ones have their data connection ready
          await client.connect({ connections: CONNECTIONS });
          // by data connections (STAT walks: test/ftp/debian-servers-stat.test.ts)
          const entries = await client.listEntries('/L2', { recursive: true, controlListing: false });
          const why = `server log tail:\n${target.logTail()}`;
          assert.deepEqual(
            entries.map((e) => [e.path, e.size]),
            files.map((f) => [`/${f.relPath}`, f.size]).sort(),
            why,
          );
          const listedReady = client.poolStats.readyPassivesUsed;
          assert.ok(listedReady >= 1, `listings on a ready data connection: ${listedReady}`);
          assert.ok(client.poolStats.open <= CONNECTIONS, `connections ${client.poolStats.open}`);
          // a command between the set-up and its transfer (SIZE) leaves the data connection usable
          for (const e of entries.slice(0, 2)) assert.equal(await client.checkFileExists(e.path), true);
          const batch = await client.downloadFiles(entries, dest, { maxConcurrent: CONNECTIONS });
          assert.deepEqual(batch.failures, [], why);
          for (const f of files) {
            assert.equal(sha256File(join(dest, f.relPath.split('/').pop() as string)), f.sha256, f.relPath);
          }
        } finally {
          await client.disconnect();
        }

        const commands = target.commands();
        if (commands === null) return; // pure-ftpd logs no commands
        const listings = commands.filter((c) => /^(MLSD|LIST|NLST)\b/.test(c));
        const listed = listings.map((c) => c.replace(/^\S+( -a)? /, '')).sort();
        assert.deepEqual(listed, folders(files), 'each folder listed once');
        const retrs = commands.filter((c) => c.startsWith('RETR ')).map((c) => c.slice('RETR '.length));
        assert.deepEqual(retrs.sort(), files.map((f) => `/${f.relPath}`).sort(), 'each file asked for once');
        // each transfer has one set-up; a connection readied and left unused adds at most one
        const setups = commands.filter((c) => /^(EPSV|PASV)\b/.test(c)).length;
        const transfers = listings.length + retrs.length;
        assert.ok(
          setups >= transfers && setups <= transfers + CONNECTIONS,
          `${setups} EPSV/PASV for ${transfers} transfers on ${CONNECTIONS} connections`,
        );
      },
    );

    test(
      'a folder that cannot be listed fails the walk with a reply error',
      {
        timeout: scaled(60_000),
        skip: tls
          ? 'shown on plain FTP'
          : REFUSE_UNREADABLE.includes(kind)
            ? false
            : `${kind} lists an unreadable folder as empty (226) or serves it as root: nothing to refuse`,
      },
      async () => {
        const hidden = dirname(join(work, 'data', files[0]?.relPath ?? ''));
        await chmod(hidden, 0o000);
        const client = newClient(target);
        try {
          await client.connect({ connections: CONNECTIONS });
          // first on a connection that has not listed yet (basic-ftp's LIST fallback is open there)
          const remote = `/${dirname(files[0]?.relPath ?? '')}`;
          await assert.rejects(client.listDir(remote), FtpReplyError);
          await assert.rejects(client.listEntries('/L2', { recursive: true }), FtpReplyError);
          // by STAT where it can (names only): the folder's STAT lists nothing, its MLSD is refused
          await assert.rejects(client.listFiles('/L2', { recursive: true }), FtpReplyError);
          // the client still works
          assert.equal((await client.listDir('/L2')).length, 1);
        } finally {
          await chmod(hidden, 0o755);
          await client.disconnect();
        }
      },
    );

    test(
      'a missing folder leaves the connection listing as exactly as before',
      { timeout: scaled(60_000), skip: tls ? 'shown on plain FTP' : false },
      async () => {
        const folder = `/${dirname(files[0]?.relPath ?? '')}`;
        const precisions = async (client: AsyncFTPClient): Promise<(number | undefined)[]> =>
          (await client.listDir(folder)).map((e) => e.modifiedAtPrecisionMs);
        const fresh = new AsyncFTPClient({ ...clientOptions(target), maxConnections: 1 });
        const after = new AsyncFTPClient({ ...clientOptions(target), maxConnections: 1 });
        try {
          const expected = await precisions(fresh);
          // pyftpdlib answers MLSD of a missing folder with 501: LIST is tried, and fails too
          // (vsftpd lists it as empty)
          await after
            .listDir('/L2/NOPE')
            .catch((err: unknown) => assert.ok(err instanceof FtpReplyError, String(err)));
          assert.deepEqual(
            await precisions(after),
            expected,
            'the same listing command as a fresh connection',
          );
        } finally {
          await fresh.disconnect();
          await after.disconnect();
        }
      },
    );

    const expiry = EXPIRY[kind];
    if (expiry !== undefined && !tls) {
      test(
        `a ready data connection left unused: ${expiry}; every connection still works`,
        { timeout: scaled(60_000) },
        async () => {
          const client = newClient(target);
          try {
            await client.connect({ connections: CONNECTIONS });
            // the walk is kept open (its generator not finished): idle connections get ready
            const walk = client.walkEntries('/L2', { recursive: true, controlListing: false });
            for (let n = 0; n < files.length; n++) assert.equal((await walk.next()).done, false);
            // while the walk is open, every idle connection opens its next data connection
            await waitUntil(
              `all ${CONNECTIONS} connections idle with their data connection ready`,
              Date.now() + scaled(10_000),
              () => (client.poolStats.readyIdle === CONNECTIONS ? true : undefined),
              { intervalMs: 20, seen: () => JSON.stringify(client.poolStats) },
            );
            await walk.return(undefined);
            await waitUntil(
              `the ready connections to expire (${READY_MAX_AGE_MS} ms unused)`,
              Date.now() + scaled(READY_MAX_AGE_MS + 5_000),
              () => (client.poolStats.readyIdle === 0 ? true : undefined),
              { seen: () => JSON.stringify(client.poolStats) },
            );
            const stats = JSON.stringify(client.poolStats);
            assert.equal(client.poolStats.open, expiry === 'connection closed' ? 0 : CONNECTIONS, stats);
            // no reply of a dropped data connection comes unasked: each connection's next
            // commands get their own replies (one listing and one download on each at once)
            const listed = await Promise.all(
              Array.from({ length: CONNECTIONS }, () => client.listDir('/L2')),
            );
            for (const l of listed)
              assert.deepEqual(
                l.map((e) => e.name),
                ['RMA1'],
              );
            const some = files.slice(0, CONNECTIONS);
            const batch = await client.downloadFiles(
              some.map((f) => `/${f.relPath}`),
              join(work, 'later'),
              { maxConcurrent: CONNECTIONS },
            );
            assert.deepEqual(batch.failures, []);
            for (const f of some) {
              assert.equal(sha256File(join(work, 'later', f.relPath.split('/').pop() as string)), f.sha256);
            }
          } finally {
            await client.disconnect();
          }
        },
      );
    }
  });
}
