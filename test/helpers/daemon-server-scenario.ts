/**
 * The daemon's promises against one real server, written once for every protocol: each file
 * taken once, across a restart; a late file; a new version; a growing file only after it stopped
 * growing; the radar date tree with filters, a configured radar that does not exist and a local
 * layout. test/daemon/servers.test.ts runs it on the Debian FTP servers,
 * test/sftp/daemon-servers.test.ts on the embedded SFTP server and OpenSSH.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import type { FTPDaemonConfig } from '../../src/daemon/config.js';
import { FTPDaemon } from '../../src/daemon/daemon.js';
import { parseRadarFileName } from '../../src/radar/filename.js';
import { listLocal, payload } from '../daemon/helpers/setup.js';
import { treeFiles, writeTree } from '../daemon/helpers/radar-tree.js';
import { sha256File } from './hash.js';

const DAY = 86_400_000;

/** A started server, serving an empty folder that the scenario fills. */
export interface ServerUnderTest {
  /** The folder the server serves as `/`. */
  root: string;
  /** How the daemon reaches it: host, port, credentials and, for SFTP, protocol and host keys. */
  connection: Pick<FTPDaemonConfig, 'host' | 'port' | 'username' | 'password'> & Partial<FTPDaemonConfig>;
  /** The server's last log lines, for failure messages. */
  logTail?: () => string;
  stop(): Promise<void>;
}

export interface ServerScenario {
  /** The test's title. */
  title: string;
  /** Why this server cannot run here (the test skips saying so), or null. */
  unavailable(): string | null;
  /** Starts the server; `base` is the test's own temp folder, removed after it. */
  start(base: string): Promise<ServerUnderTest>;
  /** What the listing's times resolve: a minute for FTP (LIST), a second for SFTP. */
  timeResolutionMs: number;
  /** The new version of a file: how much later its mtime is, and its new size. */
  newVersion: { laterByMs: number; size: number };
  /** The listing gives exact UTC times (SFTP): the ledger must hold them to the second. */
  exactTimes: boolean;
}

/** Registers the scenario as one `node:test` test. */
export function daemonServerScenario(scenario: ServerScenario): void {
  test(scenario.title, { timeout: 120_000 }, async (t) => {
    const reason = scenario.unavailable();
    if (reason !== null) {
      t.skip(reason);
      return;
    }
    const base = mkdtempSync(join(tmpdir(), 'radarlib-server-scenario-'));
    const server = await scenario.start(base);
    t.after(async () => {
      await server.stop();
      rmSync(base, { recursive: true, force: true });
    });
    const root = server.root;
    const local = join(base, 'local');
    mkdirSync(local, { recursive: true });
    const put = (path: string, content: Buffer | string, mtime?: Date): void => {
      const file = join(root, path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
      if (mtime !== undefined) utimesSync(file, mtime, mtime);
    };
    const resolution = scenario.timeResolutionMs;
    const old = new Date(Math.floor((Date.now() - 2 * DAY) / resolution) * resolution);
    for (let i = 0; i < 5; i++) put(`data/f${i}.BUFR`, payload(i, 20_000 + i), old);
    const end = new Date(Math.floor(Date.now() / 600_000) * 600_000);
    const tree = treeFiles({
      root: '/L2',
      radars: ['RMA1', 'RMA2'],
      end,
      historyMs: 3_600_000,
      stepMinutes: 10,
      fields: ['DBZH', 'VRAD'],
    });
    writeTree(root, tree);

    const config = (extra: Partial<FTPDaemonConfig> = {}): FTPDaemonConfig => ({
      ...server.connection,
      remotePath: '/data',
      localDir: local,
      minAge: 600,
      // The growing file below relies on two equal listings (settle 0), the pre-issue-11 rule.
      settle: 0,
      maxConcurrentDownloads: 3,
      backoff: { initialDelay: 0.01, maxDelay: 0.05 },
      ...extra,
    });
    const where = (): string => server.logTail?.() ?? '';

    // Old files are ready on first sight; each is taken once; a restart takes nothing again.
    const first = new FTPDaemon(config());
    const got = await first.runOnce();
    assert.equal(got.length, 5, where());
    if (scenario.exactTimes) {
      assert.deepEqual(
        got.map((r) => [r.size, r.mtime]).sort(),
        [0, 1, 2, 3, 4].map((i) => [20_000 + i, old.getTime()]),
      );
    }
    await first.stop();
    const second = new FTPDaemon(config());
    t.after(() => second.stop());
    assert.deepEqual(await second.runOnce(), []);

    // A late file with an old mtime; then a new version of f0.
    put('data/late.BUFR', 'late', new Date(old.getTime() - DAY));
    assert.deepEqual(
      (await second.runOnce()).map((r) => r.remotePath),
      ['/data/late.BUFR'],
    );
    const { laterByMs, size } = scenario.newVersion;
    put('data/f0.BUFR', payload(99, size), new Date(old.getTime() + laterByMs));
    assert.deepEqual(
      (await second.runOnce()).map((r) => r.remotePath),
      ['/data/f0.BUFR'],
    );
    assert.equal(sha256File(join(local, 'f0.BUFR')), sha256File(join(root, 'data/f0.BUFR')));

    // A growing file (fresh mtime): taken only after two equal listings.
    put('data/grow.BUFR', payload(7, 1000));
    assert.deepEqual(await second.runOnce(), []);
    appendFileSync(join(root, 'data/grow.BUFR'), payload(8, 4000));
    assert.deepEqual(await second.runOnce(), []);
    const grown = await second.runOnce();
    assert.deepEqual(
      grown.map((r) => [r.remotePath, r.size]),
      [['/data/grow.BUFR', 5000]],
    );
    await second.stop();

    // Radar date tree with filters and a local layout.
    const treeLocal = join(base, 'tree');
    const d = new FTPDaemon(
      config({
        remotePath: '/L2',
        localDir: treeLocal,
        layout: 'radar-tree',
        // A configured radar whose folder does not exist (pyftpdlib answers MLSD with 501, SFTP
        // with "no such file"): missing, empty, and never in the way of the others (issue 11).
        radars: ['NOPE', 'RMA1'],
        fields: ['DBZH'],
        minAge: 0,
        localLayout: '{radar}/{yyyy}/{mm}/{dd}/',
        lookback: (Date.now() - end.getTime() + 3_600_000 + 300_000) / 1000,
      }),
    );
    t.after(() => d.stop());
    const cycleErrors: unknown[] = [];
    d.on('cycle', (e) => {
      if (e.error !== null) cycleErrors.push(e.error);
    });
    const treeGot = await d.runOnce();
    assert.deepEqual(cycleErrors, [], 'the missing radar folder is not a cycle error');
    const expected = tree.filter((f) => /\/RMA1_.*_DBZH_/.test(f));
    assert.deepEqual(treeGot.map((r) => r.remotePath).sort(), expected.sort(), where());
    for (const f of listLocal(treeLocal)) {
      const name = f.split('/').pop() ?? '';
      const p = parseRadarFileName(name);
      assert.ok(
        p !== null && f.startsWith(`RMA1/${p.time.toISOString().slice(0, 10).replaceAll('-', '/')}/`),
        f,
      );
    }
    assert.deepEqual(await d.runOnce(), []);
  });
}
