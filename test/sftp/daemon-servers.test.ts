/**
 * The daemon's server suite (test/daemon/servers.test.ts) with `protocol: 'sftp'`: against the
 * embedded SSH/SFTP server always, and against OpenSSH's sshd when it is installed (skipped with
 * the reason otherwise). Every promise holds as for FTP: each file once, across restarts; a late
 * file; a new version; a growing file only after it stopped growing; the radar date tree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { FTPDaemon } from '../../src/daemon/daemon.js';
import type { FTPDaemonConfig } from '../../src/daemon/config.js';
import { parseRadarFileName } from '../../src/radar/filename.js';
import { sha256File as sha256 } from '../helpers/hash.js';
import { listLocal, payload } from '../daemon/helpers/setup.js';
import { treeFiles, writeTree } from '../daemon/helpers/radar-tree.js';
import { startEmbeddedSftp } from '../helpers/embedded-sftp.js';
import { opensshAvailable, startOpenSsh } from '../helpers/openssh-server.js';

const DAY = 86_400_000;

interface SftpUnderTest {
  host: string;
  port: number;
  username: string;
  password: string;
  knownHosts: string;
  root: string;
  stop(): Promise<void>;
}

const SERVERS: Record<
  string,
  { skip: () => string | null; start: (base: string) => Promise<SftpUnderTest> }
> = {
  embedded: {
    skip: () => null,
    start: async (base) => {
      const root = join(base, 'srv');
      mkdirSync(root);
      const s = await startEmbeddedSftp({ root });
      const knownHosts = join(base, 'known_hosts');
      writeFileSync(knownHosts, `${s.knownHostsLine}\n`);
      return { ...s, knownHosts, root };
    },
  },
  openssh: { skip: opensshAvailable, start: () => startOpenSsh() },
};

for (const [kind, server] of Object.entries(SERVERS)) {
  test(
    `daemon over SFTP (${kind}): once, late file, new version, growing file, radar tree`,
    { timeout: 120_000 },
    async (t) => {
      const reason = server.skip();
      if (reason !== null) {
        t.skip(reason);
        return;
      }
      const base = mkdtempSync(join(tmpdir(), `radarlib-sftp-daemon-${kind}-`));
      const sftp = await server.start(base);
      t.after(async () => {
        await sftp.stop();
        rmSync(base, { recursive: true, force: true });
      });
      const root = sftp.root;
      const local = join(base, 'local');
      mkdirSync(local, { recursive: true });
      const put = (path: string, content: Buffer | string, mtime?: Date): void => {
        const file = join(root, path);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, content);
        if (mtime !== undefined) utimesSync(file, mtime, mtime);
      };
      const old = new Date(Math.floor((Date.now() - 2 * DAY) / 1000) * 1000);
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
        protocol: 'sftp',
        host: sftp.host,
        port: sftp.port,
        username: sftp.username,
        password: sftp.password,
        sftp: { knownHosts: sftp.knownHosts },
        remotePath: '/data',
        localDir: local,
        minAge: 600,
        // The growing-file row below relies on two equal listings (no quiet period).
        settle: 0,
        maxConcurrentDownloads: 3,
        backoff: { initialDelay: 0.01, maxDelay: 0.05 },
        ...extra,
      });

      // Old files are ready on first sight; each is taken once; a restart takes nothing again.
      const first = new FTPDaemon(config());
      const got = await first.runOnce();
      assert.equal(got.length, 5);
      // SFTP's exact mtime (seconds) and size reach the ledger.
      assert.deepEqual(
        got.map((r) => [r.size, r.mtime]).sort(),
        [0, 1, 2, 3, 4].map((i) => [20_000 + i, old.getTime()]),
      );
      await first.stop();
      const second = new FTPDaemon(config());
      t.after(() => second.stop());
      assert.deepEqual(await second.runOnce(), []);

      // A late file with an old mtime; then a new version of f0 (one second newer is enough).
      put('data/late.BUFR', 'late', new Date(old.getTime() - DAY));
      assert.deepEqual(
        (await second.runOnce()).map((r) => r.remotePath),
        ['/data/late.BUFR'],
      );
      put('data/f0.BUFR', payload(99, 20_000), new Date(old.getTime() + 1000));
      assert.deepEqual(
        (await second.runOnce()).map((r) => r.remotePath),
        ['/data/f0.BUFR'],
      );
      assert.equal(sha256(join(local, 'f0.BUFR')), sha256(join(root, 'data/f0.BUFR')));

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
          radars: ['RMA1'],
          fields: ['DBZH'],
          minAge: 0,
          localLayout: '{radar}/{yyyy}/{mm}/{dd}/',
          lookback: (Date.now() - end.getTime() + 3_600_000 + 300_000) / 1000,
        }),
      );
      t.after(() => d.stop());
      const treeGot = await d.runOnce();
      const expected = tree.filter((f) => /\/RMA1_.*_DBZH_/.test(f));
      assert.deepEqual(treeGot.map((r) => r.remotePath).sort(), expected.sort());
      for (const f of listLocal(treeLocal)) {
        const name = f.split('/').pop() ?? '';
        const p = parseRadarFileName(name);
        assert.ok(
          p !== null && f.startsWith(`RMA1/${p.time.toISOString().slice(0, 10).replaceAll('-', '/')}/`),
          f,
        );
      }
      assert.deepEqual(await d.runOnce(), []);
    },
  );
}
