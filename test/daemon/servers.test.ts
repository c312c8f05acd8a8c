/**
 * The daemon's promises against real FTP servers (vsftpd, pyftpdlib, ProFTPD, Pure-FTPd), each
 * skipped with the reason when it is not installed (`.ci/install-ftp-servers.sh`). Their
 * listings differ (vsftpd has no MLSD: minute-precision LIST times), which is what stability
 * and version detection depend on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { FTPDaemon } from '../../src/daemon/daemon.js';
import type { FTPDaemonConfig } from '../../src/daemon/config.js';
import { parseRadarFileName } from '../../src/radar/filename.js';
import { DEBIAN_SERVER_KINDS, debianServerAvailable, startDebianServer } from '../helpers/debian-servers.js';
import { sha256File as sha256 } from '../helpers/hash.js';
import { listLocal, payload } from './helpers/setup.js';
import { treeFiles, writeTree } from './helpers/radar-tree.js';

const DAY = 86_400_000;

for (const kind of DEBIAN_SERVER_KINDS) {
  test(
    `daemon against ${kind}: once, late file, new version, growing file, radar tree`,
    { timeout: 120_000 },
    async (t) => {
      const reason = debianServerAvailable(kind);
      if (reason !== null) {
        t.skip(reason);
        return;
      }
      const base = mkdtempSync(join(tmpdir(), `radarlib-daemon-${kind}-`));
      const root = join(base, 'srv');
      const local = join(base, 'local');
      mkdirSync(local, { recursive: true });
      const put = (path: string, content: Buffer | string, mtime?: Date): void => {
        const file = join(root, path);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, content);
        if (mtime !== undefined) utimesSync(file, mtime, mtime);
      };
      const old = new Date(Math.floor((Date.now() - 2 * DAY) / 60_000) * 60_000);
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

      const server = await startDebianServer(kind, { root });
      t.after(async () => {
        await server.stop();
        rmSync(base, { recursive: true, force: true });
      });
      const config = (extra: Partial<FTPDaemonConfig> = {}): FTPDaemonConfig => ({
        host: server.host,
        port: server.port,
        username: server.user,
        password: server.password,
        remotePath: '/data',
        localDir: local,
        minAge: 600,
        // This test's growing file relies on two equal listings (settle 0), the pre-issue-11 rule.
        settle: 0,
        maxConcurrentDownloads: 3,
        backoff: { initialDelay: 0.01, maxDelay: 0.05 },
        ...extra,
      });
      const where = (): string => server.logTail(20);

      // Old files are ready on first sight; each is taken once; a restart takes nothing again.
      const first = new FTPDaemon(config());
      assert.equal((await first.runOnce()).length, 5, where());
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
      put('data/f0.BUFR', payload(99, 30_000), new Date(old.getTime() + 3_600_000));
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
          // A configured radar whose folder does not exist (pyftpdlib answers MLSD with 501):
          // missing, empty, and never in the way of the others (issue 11).
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
      const got = await d.runOnce();
      assert.deepEqual(cycleErrors, [], 'the missing radar folder is not a cycle error');
      const expected = tree.filter((f) => /\/RMA1_.*_DBZH_/.test(f));
      assert.deepEqual(got.map((r) => r.remotePath).sort(), expected.sort(), where());
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
