import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  childNode,
  createTreeMemory,
  inWindow,
  mustList,
  parseRadarTreePath,
  pruneTreeMemory,
  radarNode,
  radarTreeFolder,
  rangeOf,
  recentHorizon,
  windowStart,
} from '../../src/radar/tree.js';

const T = (iso: string): number => Date.parse(iso);

test('parseRadarTreePath: case table', () => {
  const cases: {
    title: string;
    input: [string, string?];
    expected: ReturnType<typeof parseRadarTreePath>;
  }[] = [
    {
      title: 'minute folder with trailing slash',
      input: ['/L2/RMA11/2025/10/20/15/2828/', '/L2'],
      expected: { radar: 'RMA11', level: 'minute', time: new Date('2025-10-20T15:28:28Z'), fileName: null },
    },
    {
      title: 'relative file path',
      input: ['RMA11/2025/10/20/15/2828/RMA11_0315_01_DBZH_20251020T152828Z.BUFR'],
      expected: {
        radar: 'RMA11',
        level: 'minute',
        time: new Date('2025-10-20T15:28:28Z'),
        fileName: 'RMA11_0315_01_DBZH_20251020T152828Z.BUFR',
      },
    },
    {
      title: 'hour folder',
      input: ['/L2/RMA1/2024/02/29/23', '/L2'],
      expected: { radar: 'RMA1', level: 'hour', time: new Date('2024-02-29T23:00:00Z'), fileName: null },
    },
    {
      title: 'radar only',
      input: ['RMA1'],
      expected: { radar: 'RMA1', level: 'radar', time: null, fileName: null },
    },
    { title: 'month 13', input: ['RMA1/2025/13'], expected: null },
    { title: 'Feb 30', input: ['RMA1/2025/02/30'], expected: null },
    { title: 'Feb 29 of a non-leap year', input: ['RMA1/2025/02/29'], expected: null },
    { title: 'hour 24', input: ['RMA1/2025/02/01/24'], expected: null },
    { title: 'MMSS 6000', input: ['RMA1/2025/02/01/00/6000'], expected: null },
    { title: 'not under root', input: ['/other/RMA1/2025', '/L2'], expected: null },
    { title: 'stray folder name', input: ['RMA1/README'], expected: null },
    { title: 'file below a file', input: ['RMA1/2025/02/01/00/0000/a/b'], expected: null },
  ];
  for (const c of cases) assert.deepEqual(parseRadarTreePath(...c.input), c.expected, c.title);
});

test('radarTreeFolder round-trips with parseRadarTreePath', () => {
  const t = new Date('2025-01-02T03:04:05Z');
  const folder = radarTreeFolder('/L2/', 'RMA11', t);
  assert.equal(folder, '/L2/RMA11/2025/01/02/03/0405');
  assert.deepEqual(parseRadarTreePath(folder, '/L2')?.time, t);
});

test('rangeOf covers calendar units, leap years included', () => {
  assert.deepEqual(rangeOf('year', [2024]), {
    start: T('2024-01-01T00:00:00Z'),
    end: T('2025-01-01T00:00:00Z'),
  });
  assert.deepEqual(rangeOf('month', [2024, 12]), {
    start: T('2024-12-01T00:00:00Z'),
    end: T('2025-01-01T00:00:00Z'),
  });
  assert.deepEqual(rangeOf('day', [2024, 2, 29]), {
    start: T('2024-02-29T00:00:00Z'),
    end: T('2024-03-01T00:00:00Z'),
  });
  assert.deepEqual(rangeOf('hour', [2024, 2, 29, 23]), {
    start: T('2024-02-29T23:00:00Z'),
    end: T('2024-03-01T00:00:00Z'),
  });
});

test('windowStart is the start time when set (a backfill, even beyond lookback), else lookback', () => {
  const now = T('2025-10-20T12:00:00Z');
  assert.equal(windowStart({ now }), -Infinity);
  assert.equal(windowStart({ now, lookbackMs: 3_600_000 }), T('2025-10-20T11:00:00Z'));
  assert.equal(
    windowStart({ now, lookbackMs: 3_600_000, startTime: new Date('2025-10-20T11:30:00Z') }),
    T('2025-10-20T11:30:00Z'),
  );
  assert.equal(
    windowStart({ now, lookbackMs: 3_600_000, startTime: new Date('2025-10-01T00:00:00Z') }),
    T('2025-10-01T00:00:00Z'),
  );
});

test('inWindow prunes branches that end before the window start', () => {
  const radar = radarNode('/L2', 'RMA1');
  const y2024 = childNode(radar, '2024');
  const y2025 = childNode(radar, '2025');
  assert.ok(y2024 && y2025);
  const start = T('2025-03-01T00:00:00Z');
  assert.equal(inWindow(y2024, start), false);
  assert.equal(inWindow(y2025, start), true);
  const feb = childNode(y2025, '02');
  const mar = childNode(y2025, '03');
  assert.ok(feb && mar);
  assert.equal(inWindow(feb, start), false, 'February ends exactly at the window start');
  assert.equal(inWindow(mar, start), true);
});

test('recentHorizon is the n-th most recent start, -Infinity with fewer', () => {
  assert.equal(recentHorizon([5, 1, 9, 3, 7], 2), 7);
  assert.equal(recentHorizon([5, 1, 9, 3, 7], 5), 1);
  assert.equal(recentHorizon([5, 1], 3), -Infinity);
  assert.equal(recentHorizon([], 1), -Infinity);
});

test('mustList: unlisted folders, and folders reaching the horizon', () => {
  const memory = createTreeMemory();
  const hour = childNode(
    childNode(childNode(childNode(radarNode('/L2', 'R'), '2025')!, '10')!, '20')!,
    '15',
  )!;
  const minute = childNode(hour, '2828')!;
  const horizon = T('2025-10-20T15:30:00Z');
  assert.equal(mustList(hour, memory, horizon), true, 'never listed');
  memory.listed.set(hour.path, hour.end);
  memory.listed.set(minute.path, minute.end);
  assert.equal(mustList(hour, memory, horizon), true, 'hour reaches the horizon');
  assert.equal(mustList(minute, memory, horizon), false, 'minute folder older than the horizon');
  assert.equal(mustList(minute, memory, T('2025-10-20T15:28:28Z')), true, 'minute folder at the horizon');
  assert.equal(mustList(hour, memory, T('2025-10-20T16:00:00Z')), false, 'hour ended before the horizon');
});

test('pruneTreeMemory forgets folders that left the window', () => {
  const memory = createTreeMemory();
  memory.listed.set('/a', T('2025-01-01T00:00:00Z'));
  memory.listed.set('/b', T('2025-02-01T00:00:00Z'));
  memory.minuteFolders.set('/a/m', T('2024-12-31T23:00:00Z'));
  memory.minuteFolders.set('/b/m', T('2025-01-31T23:00:00Z'));
  pruneTreeMemory(memory, T('2025-01-15T00:00:00Z'));
  assert.deepEqual([...memory.listed.keys()], ['/b']);
  assert.deepEqual([...memory.minuteFolders.keys()], ['/b/m']);
});
