/**
 * Listing load and parallelism of the radar-tree rounds, against the embedded FTP server: a full
 * round lists the levels of the tree side by side (not one level after another), an idle round
 * starts every folder it must list at once, and hot rounds list only the hour folder and the
 * minute folders that are new, changed or unsettled. Untimed: the assertions are on the order of
 * listing events and on the server's command log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { AsyncFTPClient } from '../../src/ftp/client.js';
import { FTPDaemon } from '../../src/daemon/daemon.js';
import { makeFileFilter } from '../../src/daemon/filters.js';
import { RadarTreeWalker, type TreeDirEntry } from '../../src/daemon/tree-walker.js';
import { radarTreeFolder, windowStart } from '../../src/radar/tree.js';
import { FakeTree, treeFiles, volumeFileName } from './helpers/radar-tree.js';
import { HOT_RADAR_TREE, payload, rig, type Rig } from './helpers/setup.js';
import { scaled, waitUntil } from '../helpers/wait.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Every folder listing the server received, in arrival order (LIST/MLSD/NLST arguments). */
function listedOnServer(r: Rig, from = 0): string[] {
  return r.server.commands
    .slice(from)
    .filter((c) => c.directive === 'LIST' || c.directive === 'MLSD' || c.directive === 'NLST')
    .map((c) => (c.arg ?? '').replace(/^-a\s+/, ''));
}

/** Puts one volume per 10 minutes for `radars` over the 2 hours before `end`. */
function putHistory(r: Rig, radars: string[], end: number): void {
  for (const radar of radars)
    for (let t = end; t > end - 2 * HOUR; t -= 10 * MINUTE) {
      const time = new Date(t);
      const name = volumeFileName(radar, '0315', '01', 'DBZH', time);
      r.put(`${radarTreeFolder('/L2', radar, time)}/${name}`, payload(t % 997, 300), new Date(t));
    }
}

/** A walker over a real client that records when each listing starts and ends. */
function recordingWalker(client: AsyncFTPClient): {
  walker: RadarTreeWalker;
  events: { at: 'start' | 'end'; path: string }[];
  peak: () => number;
} {
  const events: { at: 'start' | 'end'; path: string }[] = [];
  let inFlight = 0;
  let peak = 0;
  const walker = new RadarTreeWalker(async (path, options): Promise<TreeDirEntry[]> => {
    events.push({ at: 'start', path });
    peak = Math.max(peak, ++inFlight);
    try {
      return await client.listDir(path, options);
    } finally {
      inFlight--;
      events.push({ at: 'end', path });
    }
  });
  return {
    walker,
    events,
    peak: () => {
      const p = peak;
      peak = 0;
      return p;
    },
  };
}

const depth = (path: string): number => path.split('/').length;

test('a full round lists the levels of the tree side by side, each folder once', async (t) => {
  const r = await rig(t);
  // Volumes on both sides of an hour boundary: two hour folders at the same level.
  const end = Math.floor(Date.now() / HOUR) * HOUR + 15 * MINUTE - 2 * HOUR;
  putHistory(r, ['RMA1', 'RMA2'], end);
  const client = new AsyncFTPClient({
    host: r.server.host,
    port: r.server.port,
    username: r.server.user,
    password: r.server.password,
    maxConnections: 4,
  });
  t.after(() => client.disconnect());
  const { walker, events, peak } = recordingWalker(client);
  const options = {
    root: '/L2',
    radars: null,
    windowStart: windowStart({ now: end + MINUTE, lookbackMs: 3 * HOUR }),
    recentFolders: 3,
    fullRescan: false,
    concurrency: 4,
    acceptFile: makeFileFilter({
      filePattern: '*.BUFR',
      ignore: [],
      radars: null,
      strategies: null,
      volumes: null,
      fields: null,
    }),
  };
  const first = await walker.walk(options);
  assert.equal(first.files.length, 2 * 12, 'every volume of both radars');

  // No level waits for the whole level above: a minute folder (depth 8: /L2/R/Y/M/D/H/MMSS) is
  // listed while an hour folder (depth 7) of the other radar or hour is still being listed.
  const firstMinuteStart = events.findIndex((e) => e.at === 'start' && depth(e.path) === 8);
  const lastHourEnd = events.findLastIndex((e) => e.at === 'end' && depth(e.path) === 7);
  assert.ok(
    firstMinuteStart >= 0 && firstMinuteStart < lastHourEnd,
    'minute folders started before the last hour folder was listed',
  );
  assert.ok(peak() > 1, 'listings ran in parallel');
  const onServer = listedOnServer(r);
  assert.equal(onServer.length, first.listings, 'the server saw exactly the listings the walk counted');
  assert.equal(new Set(onServer).size, onServer.length, 'no folder listed twice');

  // The next round, two minutes later by the walk's clock: ftp-srv shows folder times as LIST
  // `hh:mm`, so the first walk's listings do not cover a change in the same minute: the recent
  // minute folders are listed once more, each after its hour folder's listing (which shows its time).
  const later = Date.now() + 2 * MINUTE;
  const idleOptions = {
    ...options,
    // (concurrency above the listings' count: the walker holds none back; the pool queues them)
    concurrency: 64,
    windowStart: windowStart({ now: end + 2 * MINUTE, lookbackMs: 3 * HOUR }),
    now: () => later,
  };
  const second = await walker.walk(idleOptions);
  assert.equal(second.minuteFoldersListed, 2 * 3, 'the 3 most recent minute folders of each radar');

  // The idle round: the times of the year, day and minute folders are unchanged and covered by a
  // listing: none of them is listed; what it must list (root, each radar, its month and recent hour
  // folders, whose listings show those times) starts before any of it is answered.
  const before = r.server.commands.length;
  events.length = 0;
  const idle = await walker.walk(idleOptions);
  const firstEnd = events.findIndex((e) => e.at === 'end');
  assert.equal(firstEnd, idle.listings, `all ${idle.listings} listings were in flight at once`);
  assert.equal(idle.minuteFoldersListed, 0, 'no unchanged minute folder listed');
  assert.equal(idle.listings, 1 + 2 * 4, 'root, and radar, month, 2 hours per radar');
  assert.deepEqual(new Set(events.map((e) => depth(e.path))), new Set([2, 3, 5, 7]), 'one wave');
  const idleOnServer = listedOnServer(r, before);
  assert.equal(idleOnServer.length, idle.listings);
  assert.equal(new Set(idleOnServer).size, idleOnServer.length, 'no folder listed twice');

  // A late file in a recent minute folder changes that folder's time: only it is listed again.
  const lateFolder = radarTreeFolder('/L2', 'RMA2', new Date(end - 10 * MINUTE));
  const lateName = volumeFileName('RMA2', '0315', '02', 'VRAD', new Date(end - 10 * MINUTE));
  r.put(`${lateFolder}/${lateName}`, payload(7, 300));
  const shownLater = new Date(Date.now() + 5 * MINUTE);
  utimesSync(join(r.root, lateFolder), shownLater, shownLater);
  const late = await walker.walk(idleOptions);
  assert.equal(late.minuteFoldersListed, 1, 'only the changed minute folder');
  assert.deepEqual(late.completeFolders, [lateFolder]);
  assert.ok(
    late.files.some((f) => f.path === `${lateFolder}/${lateName}`),
    'the late file is found',
  );

  // A new hour folder changes its day folder's time (shown in the month's listing): the day is
  // listed again, and the new hour and its minute folder with it.
  const next = new Date(end + HOUR);
  const nextFolder = radarTreeFolder('/L2', 'RMA1', next);
  const nextName = volumeFileName('RMA1', '0315', '01', 'DBZH', next);
  r.put(`${nextFolder}/${nextName}`, payload(8, 300));
  const dayFolder = nextFolder.split('/').slice(0, 6).join('/');
  const dayShown = new Date(Date.now() + 10 * MINUTE);
  utimesSync(join(r.root, dayFolder), dayShown, dayShown);
  const mark = r.server.commands.length;
  const newHour = await walker.walk({
    ...idleOptions,
    windowStart: windowStart({ now: next.getTime(), lookbackMs: 3 * HOUR }),
  });
  assert.ok(
    newHour.files.some((f) => f.path === `${nextFolder}/${nextName}`),
    'the file in the new hour is found',
  );
  assert.ok(listedOnServer(r, mark).includes(dayFolder), 'its day folder was listed again');
});

test('hot rounds list the hour folder and new minute folders only, never the unchanged ones', async (t) => {
  const r = await rig(t);
  // The two volumes of the history are in the previous hour, and the current hour's folder does
  // not exist yet: the hot rounds look for it (ftp-srv refuses a missing folder with 451, which
  // must not fail the round), and the new volume below is the first one in it.
  const hourStart = Math.floor(Date.now() / HOUR) * HOUR;
  const times = [hourStart - 10 * MINUTE, hourStart - 5 * MINUTE];
  for (const t0 of times)
    r.put(
      `${radarTreeFolder('/L2', 'RMA1', new Date(t0))}/${volumeFileName('RMA1', '0315', '01', 'DBZH', new Date(t0))}`,
      payload(1, 400),
      new Date(t0),
    );
  const got: string[] = [];
  let fullRounds = 0;
  const d = new FTPDaemon(r.config({ ...HOT_RADAR_TREE, hotInterval: 0.1 }), {
    onFileDownloaded: (_p, info) => void got.push(info.remotePath),
  });
  d.on('cycle', () => fullRounds++);
  const running = d.run();
  t.after(() => d.stop());
  const waitFor = (what: string, done: () => boolean): Promise<true> =>
    waitUntil(what, Date.now() + scaled(15_000), () => (done() ? true : undefined), 25).catch(
      (err: unknown) => {
        throw new Error(
          `${String(err)}; got ${got.join(', ')}; listed ${listedOnServer(r).slice(-30).join(', ')}`,
        );
      },
    );
  await waitFor('the history', () => got.length === 2);
  // Let the first hot rounds pass (each known minute folder is listed once more by them).
  const hourOf = (t0: number): string => radarTreeFolder('/L2', 'RMA1', new Date(t0)).replace(/\/\d{4}$/, '');
  const hourListings = (from: number): number =>
    listedOnServer(r, from).filter((p) => p === hourOf(times[1] as number)).length;
  let mark = r.server.commands.length;
  await waitFor('two hot rounds', () => hourListings(mark) >= 2);
  mark = r.server.commands.length;
  await waitFor('five more hot rounds', () => hourListings(mark) >= 5);
  const quiet = listedOnServer(r, mark);
  const minuteListings = quiet.filter((p) => /\/\d{4}$/.test(p));
  assert.deepEqual(minuteListings, [], 'unchanged minute folders are not listed by hot rounds');
  assert.ok(
    quiet.every((p) => depth(p) === 7),
    `only hour folders (/L2/RMA1/YYYY/MM/DD/HH): ${quiet.join(', ')}`,
  );

  // A new volume: its folder is listed (and its file taken) by the hot rounds; the old ones stay quiet.
  mark = r.server.commands.length;
  const t1 = Math.max(hourStart, Date.now() - 30_000);
  const newFolder = radarTreeFolder('/L2', 'RMA1', new Date(t1));
  r.put(`${newFolder}/${volumeFileName('RMA1', '0315', '01', 'DBZH', new Date(t1))}`, payload(2, 500));
  await waitFor('the new volume', () => got.length === 3);
  const after = listedOnServer(r, mark).filter((p) => /\/\d{4}$/.test(p));
  assert.ok(after.includes(newFolder), 'the new minute folder was listed');
  assert.equal(fullRounds, 1, 'found by the hot rounds, not by a second full round');
  for (const t0 of times)
    assert.ok(
      !after.includes(radarTreeFolder('/L2', 'RMA1', new Date(t0))),
      'the unchanged minute folders were not',
    );
  await d.stop();
  await running;
});

test('the listing budget paces the hot rounds (server log), and a new file in a hot folder is still taken before pollInterval', async (t) => {
  const r = await rig(t);
  const radars = ['RMA1', 'RMA2', 'RMA3'];
  const now = Date.now();
  for (const radar of radars)
    for (const t0 of [now - 2 * MINUTE, now - MINUTE]) {
      const time = new Date(t0);
      r.put(
        `${radarTreeFolder('/L2', radar, time)}/${volumeFileName(radar, '0315', '01', 'DBZH', time)}`,
        payload(t0 % 991, 300),
        time,
      );
    }
  const got: string[] = [];
  let fullRounds = 0;
  // Unbudgeted, hot rounds every 0.1 s would list the 3 hour folders ~30 times a second.
  const budget = 300;
  const d = new FTPDaemon(r.config({ ...HOT_RADAR_TREE, hotInterval: 0.1, listingBudget: budget }), {
    onFileDownloaded: (_p, info) => void got.push(info.remotePath),
  });
  d.on('cycle', () => fullRounds++);
  const running = d.run();
  t.after(() => d.stop());
  await waitUntil('the history (6 volumes)', Date.now() + scaled(15_000), () =>
    got.length === 6 ? true : undefined,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}; got ${got.join(', ')}; listed ${listedOnServer(r).join(', ')}`);
  });
  // The measured window: at least four hot rounds' worth of hour-folder listings.
  const hourListed = (from: number): number => listedOnServer(r, from).filter((p) => depth(p) === 7).length;
  const mark = r.server.commands.length;
  const started = Date.now();
  await waitUntil('four hot rounds', Date.now() + scaled(20_000), () =>
    hourListed(mark) >= 12 ? true : undefined,
  );
  // A new volume in RMA2's hot hour folder, found by a hot round.
  const t1 = new Date();
  const newFolder = radarTreeFolder('/L2', 'RMA2', t1);
  r.put(`${newFolder}/${volumeFileName('RMA2', '0315', '01', 'DBZH', t1)}`, payload(5, 500));
  await waitUntil('the new volume', Date.now() + scaled(20_000), () =>
    got.length === 7 ? true : undefined,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}; listed since the mark: ${listedOnServer(r, mark).join(', ')}`);
  });
  const elapsedMs = Date.now() - started;
  const listings = listedOnServer(r, mark);
  assert.ok(listings.includes(newFolder), 'the new minute folder was listed');
  assert.equal(fullRounds, 1, 'found by the hot rounds, not by a second full round');
  // Within the budget over the window (the server's log), give or take the round running at its
  // start (3 hour folders, plus a guessed next hour's) and the new folder's follow-ups.
  const allowed = Math.ceil((budget * elapsedMs) / 60_000) + 6 + 3;
  assert.ok(
    listings.length <= allowed,
    `${listings.length} listings in ${elapsedMs} ms, budget ${budget}/min allows ${allowed}: ${listings.join(', ')}`,
  );
  await d.stop();
  await running;
});

test('a radar gone from the root is walked once more at most, then forgotten (not hot any more)', async () => {
  const end = new Date('2025-10-20T15:30:00Z');
  const spec = { root: '/L2', end, historyMs: HOUR, stepMinutes: 10, fields: ['DBZH'] };
  let tree = new FakeTree(treeFiles({ ...spec, radars: ['RMA1', 'RMA2'] }));
  const walker = new RadarTreeWalker((path) => tree.listDir(path));
  const options = {
    root: '/L2',
    radars: null,
    windowStart: end.getTime() - 2 * HOUR,
    recentFolders: 3,
    fullRescan: false,
    concurrency: 4,
    acceptFile: () => true,
  };
  await walker.walk(options);
  assert.deepEqual([...walker.memories.keys()].sort(), ['RMA1', 'RMA2']);
  // RMA2 is removed from the server.
  tree = new FakeTree(treeFiles({ ...spec, radars: ['RMA1'] }));
  const second = await walker.walk(options);
  assert.ok(second.files.every((f) => f.path.startsWith('/L2/RMA1/')));
  assert.deepEqual([...walker.memories.keys()], ['RMA1'], 'RMA2 forgotten');
  tree.listed = [];
  await walker.walk(options);
  assert.ok(!tree.listed.some((p) => p.startsWith('/L2/RMA2')), 'not walked again');
});
