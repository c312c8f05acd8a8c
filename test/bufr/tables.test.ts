import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseDescriptor, formatDescriptor } from '../../src/bufr/descriptors.js';
import {
  buildTables,
  defaultTableProvider,
  loadBufrTables,
  masterTables,
  parseTableBCsv,
  parseTableDCsv,
  TableParseError,
} from '../../src/bufr/tables/index.js';
import { LOCAL_41_B_1, LOCAL_41_D_1, MASTER_B_16, MASTER_D_16 } from '../../src/bufr/tables/generated.js';
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

void test('the generated module matches the CSVs', { skip: sharedMissing ?? false }, () => {
  const read = (f: string): string => readFileSync(path.join(tablesDir, f), 'utf8');
  assert.deepEqual(MASTER_B_16, parseTableBCsv(read('bufrtabb_16.csv')));
  assert.deepEqual(MASTER_D_16, parseTableDCsv(read('bufrtabd_16.csv')));
  for (const v of [1, 2]) {
    assert.deepEqual(LOCAL_41_B_1, parseTableBCsv(read(`localtabb_41_${v}.csv`)));
    assert.deepEqual(LOCAL_41_D_1, parseTableDCsv(read(`localtabd_41_${v}.csv`)));
  }
});

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
