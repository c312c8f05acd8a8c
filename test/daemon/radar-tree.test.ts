import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FTPDaemon } from '../../src/daemon/daemon.js';
import type { CycleEvent } from '../../src/daemon/daemon.js';
import { parseRadarFileName } from '../../src/radar/filename.js';
import { listLocal, rig } from './helpers/setup.js';
import { treeFiles, volumeFileName, writeTree } from './helpers/radar-tree.js';

const HOUR = 3_600_000;

test('radar date tree: window, filters, local layout, new and late files', async (t) => {
  const r = await rig(t);
  // Volumes every 10 minutes for 6 hours, ending at the last full 10 minutes.
  const end = new Date(Math.floor(Date.now() / 600_000) * 600_000);
  const files = treeFiles({
    root: '/L2',
    radars: ['RMA1', 'RMA2'],
    end,
    historyMs: 6 * HOUR,
    stepMinutes: 10,
    fields: ['DBZH', 'VRAD'],
  });
  writeTree(r.root, files);
  const cycles: CycleEvent[] = [];
  const d = new FTPDaemon(
    r.config({
      remotePath: '/L2',
      layout: 'radar-tree',
      // The window starts 5 minutes off any volume time, so the test does not depend on the clock.
      lookback: (Date.now() - end.getTime() + 2 * HOUR + 300_000) / 1000,
      recentFolders: 3,
      radars: ['RMA1'],
      fields: ['DBZH'],
      localLayout: '{radar}/{yyyy}/{mm}/{dd}/',
    }),
  );
  t.after(() => d.stop());
  d.on('cycle', (e) => cycles.push(e));

  const got = await d.runOnce();
  const expected = files.filter((f) => {
    const p = parseRadarFileName(f)!;
    return p.radar === 'RMA1' && p.field === 'DBZH' && p.time.getTime() >= end.getTime() - 2 * HOUR;
  });
  assert.deepEqual(got.map((x) => x.remotePath).sort(), expected.sort());
  for (const f of listLocal(r.local)) {
    const p = parseRadarFileName(f)!;
    const iso = p.time.toISOString();
    assert.equal(f, `RMA1/${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/${f.split('/').pop()}`);
  }

  // Idle: only the recent folders are listed, nothing is taken.
  assert.deepEqual(await d.runOnce(), []);
  const idle = cycles[cycles.length - 1]!;
  const first = cycles[0]!;
  assert.ok(idle.listings < first.listings, `idle ${idle.listings} < first ${first.listings} listings`);

  // A new volume, and a late file in a recent folder.
  const next = new Date(end.getTime() + 600_000);
  const late = new Date(end.getTime() - 600_000);
  const added = [
    `${folder('RMA1', next)}/${volumeFileName('RMA1', '0315', '01', 'DBZH', next)}`,
    `${folder('RMA1', late)}/${volumeFileName('RMA1', '0315', '02', 'DBZH', late)}`,
    `${folder('RMA1', late)}/${volumeFileName('RMA1', '0315', '02', 'VRAD', late)}`, // filtered out
    `${folder('RMA2', next)}/${volumeFileName('RMA2', '0315', '01', 'DBZH', next)}`, // other radar
  ];
  writeTree(r.root, added);
  const more = await d.runOnce();
  assert.deepEqual(more.map((x) => x.remotePath).sort(), [added[0], added[1]].sort());
});

function folder(radar: string, t: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `/L2/${radar}/${t.getUTCFullYear()}/${p(t.getUTCMonth() + 1)}/${p(t.getUTCDate())}/${p(t.getUTCHours())}/${p(t.getUTCMinutes())}${p(t.getUTCSeconds())}`;
}
