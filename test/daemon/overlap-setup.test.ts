/**
 * The daemon's `overlapSetup` (per source): two control connections per download slot, one
 * moving a file's data while the other sets the next file up, and never more than
 * `maxConcurrentDownloads` data transfers at once (src/ftp/data-connection/slots.ts, wired in
 * src/daemon/source.ts). Against the embedded server over TCP, each file's data held back so
 * set-ups surely wait for a slot; one file refused. Asserted: every file once with its bytes
 * (the server's RETR log), the refused one parked with its 55x, the data transfers in flight
 * never above the setting, the spare connections used. Off (the default), nothing changes.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { resolveDaemonConfig, type FTPDaemonConfig } from '../../src/daemon/config.js';
import { FTPDaemon } from '../../src/daemon/daemon.js';
import type { FailedEvent } from '../../src/daemon/events.js';
import { createSourceClient } from '../../src/daemon/source.js';
import { ConfigError, FtpReplyError } from '../../src/errors.js';
import { AsyncFTPClient } from '../../src/ftp/index.js';
import { makeRadarDataset } from '../helpers/dataset.js';
import { debianServerAvailable, startDebianServer } from '../helpers/debian-servers.js';
import { startEmbeddedFtp, type EmbeddedFtpServer } from '../helpers/embedded-ftp.js';
import { loginTo, type FtpTestServer } from '../helpers/ftp-login.js';
import { sha256File } from '../helpers/hash.js';
import { scaled } from '../helpers/wait.js';
import { listLocal, payload } from './helpers/setup.js';

const SLOTS = 2;
const FILES = 12;
const REFUSED = 'f05.BUFR';

test('config: overlapSetup defaults off; on, twice the connections; not with auto; ignored for SFTP', () => {
  const base = { host: 'h', remotePath: '/d', localDir: '/tmp/x', maxConcurrentDownloads: 3 };
  const off = resolveDaemonConfig(base).sources[0];
  assert.equal(off?.overlapSetup, false);
  assert.equal(off?.maxConnections, 3);
  const on = resolveDaemonConfig({ ...base, overlapSetup: true }).sources[0];
  assert.equal(on?.overlapSetup, true);
  assert.equal(on?.maxConnections, 6);
  const capped = resolveDaemonConfig({ ...base, overlapSetup: true, maxConnections: 4 }).sources[0];
  assert.equal(capped?.maxConnections, 4, "an explicit maxConnections is the user's");
  assert.throws(
    () => resolveDaemonConfig({ ...base, overlapSetup: true, maxConcurrentDownloads: 'auto' }),
    (e: unknown) => e instanceof ConfigError && /overlapSetup/.test(e.message) && /auto/.test(e.message),
  );
  const sftp = resolveDaemonConfig({ ...base, protocol: 'sftp', overlapSetup: true }).sources[0];
  assert.equal(sftp?.overlapSetup, false);
  assert.equal(sftp?.maxConnections, 3);
});

/** A daemon on `server` with `SLOTS` download slots; the real source client of each source lands in `clients`. */
function slotDaemon(
  t: TestContext,
  server: FtpTestServer,
  config: Partial<FTPDaemonConfig>,
  clients: AsyncFTPClient[],
): FTPDaemon {
  const d = new FTPDaemon(
    { ...loginTo(server), minAge: 0, settle: 0, maxConcurrentDownloads: SLOTS, ...config },
    {
      clientFactory: (source, logger) => {
        const client = createSourceClient(source, logger);
        assert.ok(client instanceof AsyncFTPClient);
        clients.push(client);
        return client;
      },
    },
  );
  t.after(() => d.stop());
  return d;
}

interface Run {
  server: EmbeddedFtpServer;
  root: string;
  local: string;
  clients: AsyncFTPClient[];
  failures: FailedEvent[];
  got: number;
}

/** Serves FILES files (each one's data held back 150 ms), one refused; one daemon pass. */
async function runDaemon(t: TestContext, overlapSetup: boolean): Promise<Run> {
  const base = mkdtempSync(join(tmpdir(), 'radarlib-daemon-overlap-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const root = join(base, 'srv');
  const local = join(base, 'local');
  mkdirSync(join(root, 'data'), { recursive: true });
  mkdirSync(local);
  for (let i = 0; i < FILES; i++) {
    const name = `f${String(i).padStart(2, '0')}.BUFR`;
    writeFileSync(join(root, 'data', name), payload(i, 30_000 + i * 7919));
  }
  const server = await startEmbeddedFtp({
    root,
    readDelayMs: 150,
    refuse: (p) => p.endsWith(REFUSED),
  });
  t.after(() => server.stop());
  const clients: AsyncFTPClient[] = [];
  const failures: FailedEvent[] = [];
  const d = slotDaemon(
    t,
    server,
    {
      remotePath: '/data',
      localDir: local,
      maxAttempts: 1,
      overlapSetup,
      timeouts: { connect: scaled(5), command: scaled(5), dataStall: scaled(10) },
    },
    clients,
  );
  d.on('failed', (e) => failures.push(e));
  // the first pass lists, the next ones (bounded) until the refused file has been tried
  let got = 0;
  for (let i = 0; i < 5 && got + failures.length < FILES; i++) got += (await d.runOnce()).length;
  return { server, root, local, clients, failures, got };
}

function assertEveryFileOnce(run: Run): void {
  const why = `failures: ${run.failures.map((f) => `${f.remotePath}: ${f.error.message}`).join('; ')}`;
  assert.equal(run.got, FILES - 1, why);
  const names = listLocal(run.local);
  assert.equal(names.length, FILES - 1, names.join(', '));
  for (const n of names)
    assert.equal(sha256File(join(run.local, n)), sha256File(join(run.root, 'data', n)), n);
  assert.deepEqual(
    run.failures.map((f) => f.remotePath),
    [`/data/${REFUSED}`],
    why,
  );
  const [refusal] = run.failures;
  assert.ok(refusal?.error instanceof FtpReplyError, String(refusal?.error));
  assert.match(String(refusal.error.replyCode), /^55\d$/, "the server's refusal");
  assert.equal(refusal.retryAt, null, 'parked (maxAttempts 1)');
  const retrs = run.server.commands
    .filter((c) => c.directive === 'RETR')
    .map((c) => c.arg ?? '')
    .sort();
  assert.deepEqual(
    retrs.map((p) => p.split('/').pop()),
    Array.from({ length: FILES }, (_, i) => `f${String(i).padStart(2, '0')}.BUFR`),
    'each file asked for once',
  );
}

test('overlapSetup on: every file once, the refused one parked with its 55x, data transfers <= maxConcurrentDownloads', async (t) => {
  const run = await runDaemon(t, true);
  assertEveryFileOnce(run);
  const [client] = run.clients;
  assert.ok(client !== undefined && run.clients.length === 1);
  const stats = client.poolStats;
  const data = stats.dataTransfers;
  assert.ok(data !== undefined, 'the client caps data transfers');
  assert.equal(data.limit, SLOTS);
  // above the cap only by the tails of transfers whose slot was handed on early
  // (src/ftp/data-connection/gate.ts)
  const over = Math.min(data.handedOffEarly, SLOTS);
  assert.ok(data.peak >= 1 && data.peak <= SLOTS + over, `data transfers at once: ${JSON.stringify(data)}`);
  assert.equal(stats.limit, SLOTS * 2, 'two control connections per download slot');
  // more connections busy than transfers allowed: the spares set files up while data moved
  assert.ok(
    stats.peakBusy > SLOTS && stats.peakBusy <= SLOTS * 2,
    `connections busy at once: ${stats.peakBusy}`,
  );
});

test('overlapSetup off (the default): the same files, one connection per slot, no data cap', async (t) => {
  const run = await runDaemon(t, false);
  assertEveryFileOnce(run);
  const stats = run.clients[0]?.poolStats;
  assert.equal(stats?.dataTransfers, undefined);
  assert.equal(stats?.limit, SLOTS);
  assert.ok(stats !== undefined && stats.peakBusy <= SLOTS, `connections busy at once: ${stats?.peakBusy}`);
});

// ProFTPD answers a command sent during a transfer on the same connection with 450: the spare
// connections must set files up on their own connection only, never on a busy one.
test(
  'overlapSetup on against ProFTPD (real Debian server, transfers throttled): every file once, data transfers <= maxConcurrentDownloads',
  { skip: debianServerAvailable('proftpd') ?? false, timeout: scaled(90_000) },
  async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'radarlib-daemon-overlap-proftpd-'));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const files = await makeRadarDataset(join(work, 'data'), {
      volumes: 1,
      layout: 'flat',
      sizeMin: 100_000,
      sizeMax: 200_000,
    });
    const server = await startDebianServer('proftpd', { root: join(work, 'data'), rateLimit: 1_000_000 });
    t.after(() => server.stop());
    const local = join(work, 'local');
    const clients: AsyncFTPClient[] = [];
    const d = slotDaemon(
      t,
      server,
      {
        remotePath: '/',
        localDir: local,
        overlapSetup: true,
        timeouts: { connect: scaled(10), command: scaled(10), dataStall: scaled(20) },
      },
      clients,
    );
    const failures: string[] = [];
    d.on('failed', (e) => failures.push(`${e.remotePath}: ${e.error.message}`));
    d.on('retry', (e) => failures.push(`retry ${e.remotePath}: ${e.error.message}`));
    let got = 0;
    for (let i = 0; i < 5 && got < files.length; i++) got += (await d.runOnce()).length;
    const why = `${failures.join('; ')}\nserver log tail:\n${server.logTail(30)}`;
    assert.equal(got, files.length, why);
    assert.deepEqual(failures, [], why);
    for (const f of files) {
      const name = f.relPath.split('/').pop() as string;
      assert.equal(sha256File(join(local, name)), f.sha256, name);
    }
    const retrs = server
      .receivedCommands()
      ?.filter((c) => c.startsWith('RETR '))
      .sort();
    if (retrs !== undefined) {
      assert.deepEqual(retrs, files.map((f) => `RETR /${f.relPath}`).sort(), 'each file asked for once');
    }
    const stats = clients[0]?.poolStats;
    assert.ok(stats?.dataTransfers !== undefined, 'the client caps data transfers');
    const data = stats.dataTransfers;
    // above the cap only by the tails of transfers whose slot was handed on early
    // (src/ftp/data-connection/gate.ts)
    const over = Math.min(data.handedOffEarly, SLOTS);
    assert.ok(data.peak >= 1 && data.peak <= SLOTS + over, `data transfers at once: ${JSON.stringify(data)}`);
    assert.ok(stats.peakBusy <= SLOTS * 2, `connections busy at once: ${stats.peakBusy}`);
  },
);
