/**
 * The daemon's radar-tree walk (src/daemon/tree-walker.ts) lists a folder's sub-folders as soon
 * as the folder's listing data has ended, before the server's `226` (as `listFiles` does): over
 * the embedded FTP server, through a relay that holds the radar folder's `226`
 * (test/helpers/reply-gate.ts) until a year folder under it is listed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FTPDaemon } from '../../src/daemon/daemon.js';
import { startReplyGate } from '../helpers/reply-gate.js';
import { scaled } from '../helpers/wait.js';
import { treeFiles, writeTree } from './helpers/radar-tree.js';
import { rig } from './helpers/setup.js';

test("the first walk of a radar tree lists a child folder before its parent's 226 has come", async (t) => {
  const r = await rig(t);
  const end = new Date(Math.floor(Date.now() / 600_000) * 600_000);
  const files = treeFiles({
    root: '/L2',
    radars: ['RMA1'],
    end,
    historyMs: 1_200_000,
    stepMinutes: 10,
    fields: ['DBZH'],
  });
  writeTree(r.root, files);
  const gate = await startReplyGate({
    upstreamHost: r.server.host,
    upstreamPort: r.server.port,
    holdListingOf: (path) => path === '/L2/RMA1',
    releaseOn: (path) => path.startsWith('/L2/RMA1/'),
    // the walk goes on without the early listing: it is only later
    maxHoldMs: scaled(3000),
  });
  t.after(() => gate.stop());
  const d = new FTPDaemon(
    r.config({
      port: gate.port,
      remotePath: '/L2',
      layout: 'radar-tree',
      lookback: 3600,
      maxConnections: 3,
      maxConcurrentDownloads: 3,
    }),
  );
  t.after(() => d.stop());
  assert.equal((await d.runOnce()).length, files.length);
  assert.deepEqual(
    gate.released,
    ['command'],
    `a year folder was listed while the radar folder's 226 was held (listings: ${gate.listings.join(', ')})`,
  );
});
