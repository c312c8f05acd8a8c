import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FtpReplyError } from '../../src/errors.js';
import { RadarTreeWalker } from '../../src/daemon/tree-walker.js';
import { makeFileFilter } from '../../src/daemon/filters.js';
import { windowStart } from '../../src/radar/tree.js';
import { FakeTree, treeFiles, volumeFileName } from './helpers/radar-tree.js';

const END = new Date('2025-10-20T15:30:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function walkOptions(now: number, overrides: Partial<Parameters<RadarTreeWalker['walk']>[0]> = {}) {
  return {
    root: '/L2',
    radars: null,
    windowStart: windowStart({ now, lookbackMs: 6 * HOUR }),
    recentFolders: 6,
    fullRescan: false,
    concurrency: 4,
    acceptFile: makeFileFilter({
      filePattern: '*.BUFR',
      ignore: ['.*', '*.part'],
      radars: null,
      strategies: null,
      volumes: null,
      fields: null,
    }),
    ...overrides,
  };
}

test('first walk lists only the window; files outside it are not returned', async () => {
  const files = treeFiles({
    root: '/L2',
    radars: ['RMA1'],
    end: END,
    historyMs: 2 * DAY,
    stepMinutes: 10,
    fields: ['DBZH'],
  });
  const tree = new FakeTree(files);
  const walker = new RadarTreeWalker(tree.listDir);
  const result = await walker.walk(walkOptions(END.getTime()));
  // 6 h of 10-minute volumes: 36 intervals, 37 folders (the one stamped at the window start counts).
  assert.equal(result.files.length, 37);
  assert.ok(!tree.listed.some((p) => p.startsWith('/L2/RMA1/2025/10/18')), 'older days are never listed');
  assert.ok(
    !tree.listed.some((p) => p.startsWith('/L2/RMA1/2025/10/19')),
    'yesterday is outside a 6 h window',
  );
});

test('idle cycles cost O(recent folders), the same for 2 and 30 days of history', async () => {
  const idleListings: number[] = [];
  for (const days of [2, 30]) {
    const files = treeFiles({
      root: '/L2',
      radars: ['RMA1'],
      end: END,
      historyMs: days * DAY,
      stepMinutes: 5,
      fields: ['DBZH', 'VRAD'],
    });
    const tree = new FakeTree(files);
    const walker = new RadarTreeWalker(tree.listDir);
    const now = END.getTime() + 60_000;
    await walker.walk(walkOptions(now, { windowStart: windowStart({ now, lookbackMs: 2 * DAY }) }));
    tree.listings = 0;
    const idle = await walker.walk(
      walkOptions(now + 60_000, { windowStart: windowStart({ now, lookbackMs: 2 * DAY }) }),
    );
    idleListings.push(tree.listings);
    assert.equal(idle.minuteFoldersListed, 6, 'exactly the N most recent minute folders');
    // root + radar + year + month + day + hour(s) + 6 minute folders: small and constant.
    assert.ok(tree.listings <= 14, `idle cycle listed ${tree.listings} folders`);
    assert.ok(idle.listings === tree.listings);
  }
  assert.equal(idleListings[0], idleListings[1], 'idle cost does not grow with history');
});

test('a new minute folder and a late file in a recent folder are found; older folders are not re-listed', async () => {
  const files = treeFiles({
    root: '/L2',
    radars: ['RMA1'],
    end: END,
    historyMs: 3 * HOUR,
    stepMinutes: 10,
    fields: ['DBZH'],
  });
  const tree = new FakeTree(files);
  const walker = new RadarTreeWalker(tree.listDir);
  const now = END.getTime();
  await walker.walk(walkOptions(now));

  const next = new Date(END.getTime() + 10 * 60_000);
  const newFolderFile = `/L2/RMA1/2025/10/20/15/4000/${volumeFileName('RMA1', '0315', '01', 'DBZH', next)}`;
  tree.add(newFolderFile);
  const lateTime = new Date(END.getTime() - 20 * 60_000); // 15:10, among the 6 most recent
  const lateFile = `/L2/RMA1/2025/10/20/15/1000/${volumeFileName('RMA1', '0315', '01', 'ZDR', lateTime)}`;
  tree.add(lateFile);
  const oldTime = new Date(END.getTime() - 2 * HOUR); // 13:30, long past the horizon
  const tooOld = `/L2/RMA1/2025/10/20/13/3000/${volumeFileName('RMA1', '0315', '01', 'ZDR', oldTime)}`;
  tree.add(tooOld);

  tree.listed = [];
  const result = await walker.walk(walkOptions(now + 60_000));
  const paths = result.files.map((f) => f.path);
  assert.ok(paths.includes(newFolderFile), 'new minute folder');
  assert.ok(paths.includes(lateFile), 'late file in a recent folder');
  assert.ok(!paths.includes(tooOld), 'old folders wait for the full rescan');
  assert.ok(!tree.listed.includes('/L2/RMA1/2025/10/20/13'), 'old hour not re-listed');

  const rescan = await walker.walk(walkOptions(now + 120_000, { fullRescan: true }));
  assert.ok(
    rescan.files.some((f) => f.path === tooOld),
    'full rescan finds the late file in an old folder',
  );
});

test('radars given: root not listed, a missing radar is empty; filters apply to file names', async () => {
  const files = treeFiles({
    root: '/L2',
    radars: ['RMA1', 'RMA2'],
    end: END,
    historyMs: HOUR,
    stepMinutes: 10,
    fields: ['DBZH', 'VRAD', 'ZDR'],
  });
  const tree = new FakeTree(files);
  const walker = new RadarTreeWalker(tree.listDir);
  const result = await walker.walk(
    walkOptions(END.getTime(), {
      radars: ['RMA2', 'RMA9'],
      acceptFile: makeFileFilter({
        filePattern: '*.BUFR',
        ignore: [],
        radars: ['RMA2'],
        strategies: null,
        volumes: null,
        fields: ['DBZH', 'ZDR'],
      }),
    }),
  );
  assert.ok(!tree.listed.includes('/L2'), 'root not listed when radars are given');
  assert.ok(result.files.length > 0);
  for (const f of result.files) {
    assert.match(f.name, /^RMA2_.*_(DBZH|ZDR)_/);
  }
});

test('a folder that fails is recorded, the others go on, and it is listed again next cycle', async () => {
  const files = treeFiles({
    root: '/L2',
    radars: ['RMA1'],
    end: END,
    historyMs: HOUR,
    stepMinutes: 10,
    fields: ['DBZH'],
  });
  const tree = new FakeTree(files);
  let fail = true;
  const walker = new RadarTreeWalker(async (path) => {
    if (fail && path.endsWith('/15/0000')) throw new Error('connection reset');
    return tree.listDir(path);
  });
  const first = await walker.walk(walkOptions(END.getTime(), { recentFolders: 1 }));
  assert.equal(first.folderErrors.length, 1);
  assert.match(first.folderErrors[0]?.path ?? '', /\/15\/0000$/);
  assert.match(first.folderErrors[0]?.error.message ?? '', /connection reset/);
  assert.ok(first.files.length < 6, 'the failed folder contributed nothing');
  assert.ok(!first.completeFolders.some((f) => f.endsWith('/15/0000')), 'and is not complete');
  fail = false;
  const result = await walker.walk(walkOptions(END.getTime(), { recentFolders: 1 }));
  assert.ok(
    result.files.some((f) => f.path.includes('/15/0000/')),
    'the failed folder is listed again',
  );
  assert.equal(new Set([...first.files, ...result.files].map((f) => f.path)).size, 6, 'nothing missed');
  assert.deepEqual(result.folderErrors, []);
});

test('a radar whose folder is missing (550/450/501) or fails never stops the other radars', async () => {
  const files = treeFiles({
    root: '/L2',
    radars: ['RMA1', 'RMA2'],
    end: END,
    historyMs: HOUR,
    stepMinutes: 10,
    fields: ['DBZH'],
  });
  const tree = new FakeTree(files);
  const walker = new RadarTreeWalker(async (path) => {
    if (path === '/L2/NOPE') throw new FtpReplyError(501, 'No such directory.', { host: 'h', port: 21 });
    if (path === '/L2/BROKEN') throw new FtpReplyError(530, 'Permission denied.', { host: 'h', port: 21 });
    return tree.listDir(path);
  });
  const result = await walker.walk(
    walkOptions(END.getTime(), { radars: ['NOPE', 'RMA1', 'BROKEN', 'RMA2'] }),
  );
  assert.equal(result.files.length, 12, 'both real radars walked');
  assert.deepEqual(
    result.folderErrors.map((f) => f.path),
    ['/L2/BROKEN'],
    'a missing radar folder is empty, not an error; another failure is recorded for its folder',
  );
  // Every radar failing is the server's problem: the walk fails.
  const down = new RadarTreeWalker(async () => {
    throw new FtpReplyError(421, 'Service not available', { host: 'h', port: 21 });
  });
  await assert.rejects(down.walk(walkOptions(END.getTime(), { radars: ['RMA1', 'RMA2'] })), /421/);
});

test('remotePath may be one radar folder (its children are years)', async () => {
  const files = treeFiles({
    root: '/L2',
    radars: ['RMA11'],
    end: END,
    historyMs: HOUR,
    stepMinutes: 10,
    fields: ['DBZH'],
  });
  const tree = new FakeTree(files);
  const walker = new RadarTreeWalker(tree.listDir);
  const result = await walker.walk(walkOptions(END.getTime(), { root: '/L2/RMA11/' }));
  assert.equal(result.files.length, 6);
  assert.ok(result.files.every((f) => f.path.startsWith('/L2/RMA11/2025/')));
});
