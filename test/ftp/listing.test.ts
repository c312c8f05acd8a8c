/**
 * src/ftp/listing.ts: the pure parts, as case tables (the walk itself runs against real servers in
 * client.test.ts and debian-servers.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FileInfo, FileType } from 'basic-ftp';
import { isInFlightName, makeMatcher, parseUnixListTime, toDirEntry } from '../../src/ftp/listing.js';

describe('makeMatcher', () => {
  const cases: { title: string; pattern: string | RegExp; yes: string[]; no: string[] }[] = [
    {
      title: 'a glob without / matches the base name at any depth',
      pattern: '*.BUFR',
      yes: ['a.BUFR', 'RMA1/2025/a.BUFR', 'x/y/z/RMA11_0315_01_DBZH_20251020T152828Z.BUFR'],
      no: ['a.bufr', 'a.BUFR.part', 'RMA1/a.H5'],
    },
    {
      title: 'a glob with / is tested against the whole relative path',
      pattern: 'RMA1/**/*.BUFR',
      yes: ['RMA1/a.BUFR', 'RMA1/2025/10/a.BUFR'],
      no: ['a.BUFR', 'RMA11/a.BUFR', 'x/RMA1/a.BUFR'],
    },
    {
      title: 'dot-files are not matched by a wildcard',
      pattern: '*',
      yes: ['a', 'dir/a.BUFR'],
      no: ['.hidden', 'dir/.a.BUFR'],
    },
    {
      title: 'braces and character classes',
      pattern: 'RMA{1,2}_*_DBZ[HV]_*.BUFR',
      yes: ['RMA1_0315_01_DBZH_x.BUFR', 'RMA2_0315_01_DBZV_x.BUFR'],
      no: ['RMA3_0315_01_DBZH_x.BUFR', 'RMA1_0315_01_ZDR_x.BUFR'],
    },
    {
      title: 'a RegExp is tested as given, against the relative path',
      pattern: /^RMA1\/.*DBZH/,
      yes: ['RMA1/x_DBZH.BUFR'],
      no: ['RMA11/x_DBZH.BUFR', 'x_DBZH.BUFR'],
    },
  ];
  for (const c of cases) {
    test(c.title, () => {
      const match = makeMatcher(c.pattern);
      for (const p of c.yes) assert.equal(match(p), true, `${String(c.pattern)} should match ${p}`);
      for (const p of c.no) assert.equal(match(p), false, `${String(c.pattern)} should not match ${p}`);
    });
  }
});

describe('parseUnixListTime', () => {
  const now = new Date('2025-10-20T18:00:00Z');
  const cases: { input: string; expected: string | null }[] = [
    { input: 'Oct 20 15:28', expected: '2025-10-20T15:28:00.000Z' },
    { input: 'Oct 20  2024', expected: '2024-10-20T00:00:00.000Z' },
    { input: 'oct 5 09:01', expected: '2025-10-05T09:01:00.000Z' },
    // hh:mm more than a day ahead of now was last year (ls shows times for the last six months).
    { input: 'Dec 24 10:00', expected: '2024-12-24T10:00:00.000Z' },
    // Within a day ahead: a server clock slightly ahead, still this year.
    { input: 'Oct 21 10:00', expected: '2025-10-21T10:00:00.000Z' },
    { input: 'Foo 20 15:28', expected: null },
    { input: '2025-10-20 15:28', expected: null },
    { input: '', expected: null },
  ];
  for (const c of cases) {
    test(JSON.stringify(c.input), () => {
      assert.equal(parseUnixListTime(c.input, now)?.toISOString() ?? null, c.expected);
    });
  }
});

describe('toDirEntry', () => {
  function info(name: string, type: FileType, extra: Partial<FileInfo> = {}): FileInfo {
    return Object.assign(new FileInfo(name), { type, size: 42 }, extra);
  }
  test('files and folders become entries with their absolute path', () => {
    assert.deepEqual(toDirEntry('/L2/RMA1', info('a.BUFR', FileType.File)), {
      name: 'a.BUFR',
      path: '/L2/RMA1/a.BUFR',
      type: 'file',
      size: 42,
      modifiedAt: null,
      modifiedAtPrecisionMs: 1000,
      modifiedAtInServerZone: false,
    });
    assert.equal(toDirEntry('/', info('2025', FileType.Directory))?.path, '/2025');
  });
  test('symlinks, unknown types, . and .. are left out', () => {
    assert.equal(toDirEntry('/x', info('link', FileType.SymbolicLink)), null);
    assert.equal(toDirEntry('/x', info('odd', FileType.Unknown)), null);
    assert.equal(toDirEntry('/x', info('.', FileType.Directory)), null);
    assert.equal(toDirEntry('/x', info('..', FileType.Directory)), null);
  });
  test('an exact MLSD time wins; a Unix listing time is parsed as UTC', () => {
    const exact = new Date('2025-10-20T15:28:28Z');
    const mlsd = info('a', FileType.File, { modifiedAt: exact, rawModifiedAt: 'Oct 20 15:28' });
    assert.equal(toDirEntry('/', mlsd)?.modifiedAt, exact);
    const unix = info('a', FileType.File, { rawModifiedAt: 'Oct 20 15:28' });
    const now = new Date('2025-10-21T00:00:00Z');
    assert.equal(toDirEntry('/', unix, now)?.modifiedAt?.toISOString(), '2025-10-20T15:28:00.000Z');
  });
});

test('isInFlightName: upload leftovers and dot-files are never taken', () => {
  for (const n of ['.a.BUFR', 'a.BUFR.part', 'a.tmp', 'A.TMP', 'a.filepart', 'a.crdownload']) {
    assert.equal(isInFlightName(n), true, n);
  }
  for (const n of ['a.BUFR', 'part', 'a.partial', 'tmp.BUFR']) assert.equal(isInFlightName(n), false, n);
});
