import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseDescriptor, formatDescriptor } from '../../src/bufr/descriptors.js';
import {
  buildTables,
  createTableProvider,
  defaultTableProvider,
  eccodesLocalTables,
  loadBufrTables,
  masterTables,
  parseTableBCsv,
  parseTableDCsv,
  TableParseError,
  wmoTables,
  wmoVersions,
} from '../../src/bufr/tables/index.js';
import { LOCAL_41_B_1, LOCAL_41_D_1 } from '../../src/bufr/tables/generated.js';
import { sharedMissing, tablesDir } from './helpers.js';

const key = { masterTable: 0, masterTableVersion: 16, centre: 41, subCentre: 0, localTableVersion: 2 };

void test('descriptor text forms', () => {
  assert.equal(formatDescriptor(321204), '3 21 204');
  assert.equal(formatDescriptor(1001), '0 01 001');
  assert.equal(parseDescriptor('3 21 204'), 321204);
  assert.equal(parseDescriptor('001001'), 1001);
  assert.equal(parseDescriptor('0 64 001'), null);
});

void test('built-in tables hold every entry the RMA files need, with the documented widths', () => {
  const t = defaultTableProvider(key);
  assert.ok(t !== undefined);
  const widths: Record<number, [number, number, number]> = {
    1192: [0, 0, 24],
    1193: [0, 0, 128],
    5001: [5, -9000000, 25],
    6001: [5, -18000000, 26],
    7001: [0, -400, 15],
    2135: [2, -9000, 15],
    2134: [2, 0, 16],
    21203: [-1, 0, 14],
    30198: [0, 0, 8],
    31002: [0, 0, 16],
  };
  for (const [code, [scale, ref, width]] of Object.entries(widths)) {
    const e = t.b.get(Number(code));
    assert.ok(e, `B ${code}`);
    assert.deepEqual([e.scale, e.reference, e.width], [scale, ref, width], `B ${code}`);
  }
  assert.deepEqual(t.d.get(321206), [30197, 103000, 31002, 101000, 31002, 30198]);
  assert.deepEqual(t.d.get(301031), [301001, 2001, 301011, 301012, 301022]);
  // Another centre gets only the master table.
  assert.equal(defaultTableProvider({ ...key, centre: 85 })?.b.has(30198), false);
});

void test(
  'the generated modules match the CSVs; ecCodes WMO v16 holds every OPERA v16 entry unchanged',
  { skip: sharedMissing ?? false },
  () => {
    const read = (f: string): string => readFileSync(path.join(tablesDir, f), 'utf8');
    const v16 = wmoTables(16);
    assert.ok(v16 !== undefined);
    for (const [code, , , scale, ref, width] of parseTableBCsv(read('bufrtabb_16.csv'))) {
      const e = v16.b.get(code);
      assert.deepEqual([e?.scale, e?.reference, e?.width], [scale, ref, width], formatDescriptor(code));
    }
    for (const [code, members] of parseTableDCsv(read('bufrtabd_16.csv'))) {
      assert.deepEqual(v16.d.get(code), members, formatDescriptor(code));
    }
    for (const v of [1, 2]) {
      assert.deepEqual(LOCAL_41_B_1, parseTableBCsv(read(`localtabb_41_${v}.csv`)));
      assert.deepEqual(LOCAL_41_D_1, parseTableDCsv(read(`localtabd_41_${v}.csv`)));
    }
  },
);

void test('CSV parsing: padding, comments, continuation lines, errors name the line', () => {
  const b = parseTableBCsv('0;01;192;Type; of id;CCITT IA5;0;0;24\n\n');
  assert.deepEqual(b, [[1192, 'Type; of id', 'CCITT IA5', 0, 0, 24]]);
  const d = parseTableDCsv('# seq\n 3;21;206;  0;30;197\n  ;  ;   ;  1;03;000\n');
  assert.deepEqual(d, [[321206, [30197, 103000]]]);
  assert.throws(
    () => parseTableDCsv('  ;  ;   ;  1;03;000\n', 'x.csv'),
    (e: unknown) => e instanceof TableParseError && /x\.csv, line 1/.test(e.message),
  );
  assert.throws(() => parseTableBCsv('0;01;192;a;b;0;0;zero\n'), TableParseError);
});

void test('loadBufrTables loads other tables from files, over the master table', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'radarlib-tables-'));
  const bPath = path.join(dir, 'localtabb_85_1.csv');
  const dPath = path.join(dir, 'localtabd_85_1.csv');
  writeFileSync(bPath, '0;48;001;Local thing;Numeric;1;-10;9\n');
  writeFileSync(dPath, ' 3;48;001;  0;48;001\n  ;  ;   ;  0;01;001\n');
  const t = await loadBufrTables({ tableB: [bPath], tableD: [dPath] });
  assert.equal(t.b.get(48001)?.width, 9);
  assert.deepEqual(t.d.get(348001), [48001, 1001]);
  assert.equal(t.b.get(1001)?.width, 7, 'master entries are underneath');
  const only = await loadBufrTables({ tableB: [bPath], tableD: [dPath], includeMaster: false });
  assert.equal(only.b.has(1001), false);
  assert.equal(buildTables([], []).b.size, 0);
  assert.ok(masterTables().b.size > 1000);
});

void test('WMO master tables by version: entries differ between v13 and v16 as the WMO changed them', () => {
  const versions = wmoVersions();
  for (let v = 13; v <= 39; v++) assert.ok(versions.includes(v), `master version ${v}`);
  const v13 = wmoTables(13);
  const v16 = wmoTables(16);
  assert.ok(v13 !== undefined && v16 !== undefined);
  // 0 14 002 (long-wave radiation): 12 bits, reference -2048 in v13; 17 bits, -65536 in v16.
  assert.deepEqual([v13.b.get(14002)?.width, v13.b.get(14002)?.reference], [12, -2048]);
  assert.deepEqual([v16.b.get(14002)?.width, v16.b.get(14002)?.reference], [17, -65536]);
  // 3 04 037 (inside 3 10 028) lost its last 0 08 003 after v13.
  assert.deepEqual(v13.d.get(304037)?.slice(-3), [8003, 12063, 8003]);
  assert.deepEqual(v16.d.get(304037)?.slice(-3), [12063, 8003, 12063]);
  // 0 08 029 is in v16 (not in the OPERA v16 CSV); 0 02 017 was added in v18.
  assert.ok(v16.b.has(8029));
  assert.equal(v16.b.has(2017), false);
  assert.equal(wmoTables(18)?.b.get(2017)?.width, 5);
  assert.equal(wmoTables(250), undefined);
  assert.equal(wmoTables(16), v16, 'built once, then cached');
});

void test('local tables are chosen by centre, sub-centre and local version (as ecCodes section.3.def)', () => {
  const base = { masterTable: 0, masterTableVersion: 13, subCentre: 0 };
  // ECMWF (98), local version 1: 0 01 192 exists only locally.
  const ecmwf = defaultTableProvider({ ...base, centre: 98, localTableVersion: 1 });
  assert.ok(ecmwf?.b.has(1192));
  assert.equal(defaultTableProvider({ ...base, centre: 98, localTableVersion: 0 })?.b.has(1192), false);
  assert.equal(defaultTableProvider({ ...base, centre: 85, localTableVersion: 1 })?.b.has(1192), false);
  assert.ok(eccodesLocalTables(0, 13, 1, 98, 0) !== undefined);
  assert.equal(eccodesLocalTables(0, 13, 1, 98, 77), undefined, 'another sub-centre has its own directory');
  // Master version 19 selects local tables by "19-<local version>".
  assert.ok(eccodesLocalTables(0, 19, 1, 98, 0) !== undefined);
  assert.equal(
    defaultTableProvider({ ...base, masterTableVersion: 250, centre: 98, localTableVersion: 1 }),
    undefined,
  );
});

void test('users add their own local tables; they win over the built-in ones', () => {
  const mine = buildTables([[[1192, 'My own', 'Numeric', 0, 0, 5]]], [[[340001, [1192, 1001]]]]);
  const provider = createTableProvider({ local: [{ centre: 98, localTableVersion: 2, tables: mine }] });
  const key98 = { masterTable: 0, masterTableVersion: 13, centre: 98, subCentre: 0, localTableVersion: 2 };
  const t = provider(key98);
  assert.equal(t?.b.get(1192)?.width, 5);
  assert.deepEqual(t?.d.get(340001), [1192, 1001]);
  assert.equal(t?.b.get(1001)?.width, 7, 'the master table of the message version is underneath');
  assert.equal(
    provider({ ...key98, localTableVersion: 1 })?.b.get(1192)?.width,
    8,
    'other versions: built-in',
  );
  assert.equal(provider(key98), t, 'cached per combination');
});
