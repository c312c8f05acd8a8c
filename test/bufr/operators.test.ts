/**
 * The data description operators, one hand-built message each, named by the regulation they
 * implement (WMO Manual on Codes, Vol. I.2, FM 94 BUFR, table C and its notes; regulation 94.6.3
 * for compressed data). The real-data check of the same operators is eccodes-compare.test.ts.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeBufr, type DataItem, type ValueItem } from '../../src/bufr/decoder.js';
import { BufrFormatError } from '../../src/errors.js';
import { buildMessage } from './helpers.js';

const T = 12101; // 0 12 101 air temperature: K, scale 2, reference 0, 16 bits
const Q = 33007; // 0 33 007 per cent confidence: 7 bits
const BIT = 31031; // 0 31 031 data present indicator: 1 bit

function values(items: readonly DataItem[] | undefined): unknown[] {
  return (items ?? []).map((i) =>
    i.kind === 'value' ? i.value : i.kind === 'operator' ? `op ${i.descriptor}` : 'bytes',
  );
}

function item(items: readonly DataItem[] | undefined, i: number): ValueItem {
  const it = items?.[i];
  assert.ok(it?.kind === 'value', `item ${i} is a value`);
  return it;
}

void test('2 04 YYY associated fields (table C 2 04, with 0 31 021 significance): never missing, class 31 excluded, 2 04 000 cancels', () => {
  const m = decodeBufr(
    buildMessage({
      descriptors: [204002, 31021, T, 204000, T],
      data: (w) => {
        w.writeUint(6, 1); // 0 31 021 = 1 (1-bit quality indicator); no associated field for class 31
        w.writeUint(2, 3); // associated field, all ones: a value, not "missing"
        w.writeUint(16, 29315);
        w.writeUint(16, 27315); // after 2 04 000: no associated field
      },
    }),
  );
  const s = m.subsets[0];
  assert.deepEqual(values(s), [1, 293.15, 273.15]);
  assert.equal(item(s, 0).associated, undefined);
  assert.deepEqual(item(s, 1).associated, { value: 3, significance: 1 });
  assert.equal(item(s, 2).associated, undefined);
});

void test('2 04 YYY in compressed data (regulation 94.6.3): the associated field is compressed like an element', () => {
  const m = decodeBufr(
    buildMessage({
      subsets: 2,
      compressed: true,
      descriptors: [204004, 31021, T],
      data: (w) => {
        w.writeUint(6, 2); // 0 31 021 R0
        w.writeUint(6, 0); // NBINC 0: same in both subsets
        w.writeUint(4, 5); // associated R0
        w.writeUint(6, 2); // NBINC 2
        w.writeUint(2, 0);
        w.writeUint(2, 3); // subset 2: 5 + 3 = 8
        w.writeUint(16, 29315); // temperature R0
        w.writeUint(6, 0);
      },
    }),
  );
  assert.deepEqual(item(m.subsets[0], 1).associated, { value: 5, significance: 2 });
  assert.deepEqual(item(m.subsets[1], 1).associated, { value: 8, significance: 2 });
});

void test('2 05 YYY character insert (table C 2 05): YYY CCITT IA5 characters under 205YYY', () => {
  const m = decodeBufr(
    buildMessage({
      descriptors: [205004, 1001],
      data: (w) => {
        w.writeText(4, 'AB  ');
        w.writeUint(7, 87);
      },
    }),
  );
  assert.deepEqual(
    m.subsets[0]?.map((i) => i.descriptor),
    [205004, 1001],
  );
  assert.deepEqual(values(m.subsets[0]), ['AB  ', 87]);
});

void test("strings: kept as stored by default (ecCodes' form), trailing spaces and NULs trimmed with strings: 'trim'", () => {
  const msg = buildMessage({ descriptors: [205005], data: (w) => w.writeText(5, 'RMA\0 ') });
  assert.deepEqual(values(decodeBufr(msg).subsets[0]), ['RMA\0 ']);
  assert.deepEqual(values(decodeBufr(msg, { strings: 'trim' }).subsets[0]), ['RMA']);
});

void test('2 06 YYY (table C 2 06): an unknown local element of YYY bits is read as a raw integer; a known one of that width normally', () => {
  const m = decodeBufr(
    buildMessage({
      descriptors: [206010, 48001, 206007, 1001],
      data: (w) => {
        w.writeUint(10, 513);
        w.writeUint(7, 87);
      },
    }),
  );
  assert.deepEqual(values(m.subsets[0]), [513, 87]);
});

void test('2 03 YYY change reference values (table C 2 03): sign bit first, 2 03 255 ends the definitions, 2 03 000 restores the table', () => {
  const m = decodeBufr(
    buildMessage({
      descriptors: [203010, T, 203255, T, 203000, T],
      data: (w) => {
        w.writeUint(10, 0b1000000101); // new reference -5 for 0 12 101
        w.writeUint(16, 29315); // (29315 - 5) / 100
        w.writeUint(16, 29315); // table reference 0 again
      },
    }),
  );
  assert.deepEqual(values(m.subsets[0]), [293.1, 293.15]);
});

void test('2 21 YYY data not present (table C 2 21): no bits for the next YYY descriptors, classes 1-9 and 31 excepted', () => {
  const m = decodeBufr(
    buildMessage({
      descriptors: [221002, T, 1001, T],
      data: (w) => {
        w.writeUint(7, 87); // 0 01 001 is still present
        w.writeUint(16, 29315); // the third descriptor is outside the 2 21 range
      },
    }),
  );
  assert.deepEqual(values(m.subsets[0]), [null, 87, 293.15]);
});

void test('bit-maps (table C 2 22-2 37): quality, substituted, difference statistics, reuse, cancel and backward reference', () => {
  const m = decodeBufr(
    buildMessage({
      descriptors: [
        ...[T, T, T],
        // 2 22 000 quality information with a bit-map defined for reuse (2 36 000)
        ...[222000, 236000, BIT, BIT, BIT, Q, Q],
        // 2 23 000 substituted values, reusing the bit-map (2 37 000)
        ...[223000, 237000, 223255, 223255],
        // 2 25 000 difference statistics: width n + 1, reference -2^n
        ...[225000, 237000, 8024, 225255, 225255],
        // cancel reuse (2 37 255) and the backward reference (2 35 000), then a new bit-map
        ...[237255, 235000, T, 232000, BIT, 232255],
      ],
      data: (w) => {
        for (const t of [29315, 27315, 28315]) w.writeUint(16, t);
        for (const b of [0, 1, 0]) w.writeUint(1, b); // elements 1 and 3 present
        w.writeUint(7, 90);
        w.writeUint(7, 70);
        w.writeUint(16, 29300);
        w.writeUint(16, 28300);
        w.writeUint(6, 4); // 0 08 024
        w.writeUint(17, 65536 + 150); // +1.50 K
        w.writeUint(17, 65536 - 25); // -0.25 K
        w.writeUint(16, 30000); // new element after 2 35 000
        w.writeUint(1, 0);
        w.writeUint(16, 29999); // its retained value
      },
    }),
  );
  const s = m.subsets[0];
  assert.deepEqual(values(s), [
    293.15,
    273.15,
    283.15,
    'op 222000',
    'op 236000',
    0,
    1,
    0, // data present bits are values, never missing
    90,
    70,
    'op 223000',
    'op 237000',
    293,
    283,
    'op 225000',
    'op 237000',
    4,
    1.5,
    -0.25,
    'op 237255',
    'op 235000',
    300,
    'op 232000',
    0,
    299.99,
  ]);
  const refers = (s ?? []).map((i) => (i.kind === 'value' ? (i.refersTo ?? null) : null));
  assert.deepEqual(
    [refers[8], refers[9], refers[12], refers[13], refers[17], refers[18], refers[24]],
    [0, 2, 0, 2, 0, 2, 21],
  );
});

void test('2 37 000 without a defined bit-map and a bit-map longer than the data before it are format errors', () => {
  const reuse = buildMessage({ descriptors: [T, 222000, 237000, Q], data: (w) => w.writeUint(32, 0) });
  assert.throws(
    () => decodeBufr(reuse),
    (e: unknown) => e instanceof BufrFormatError && /2 37 000/.test(e.message),
  );
  const long = buildMessage({ descriptors: [T, 222000, BIT, BIT, Q], data: (w) => w.writeUint(32, 0) });
  assert.throws(
    () => decodeBufr(long),
    (e: unknown) => e instanceof BufrFormatError && /2 bits but only 1/.test(e.message),
  );
});

void test('edition 2 (Manual on Codes 1988): section 1 has a 2-byte originating centre and no sub-centre', () => {
  const msg = buildMessage({ edition: 3, centre: 98, descriptors: [1001], data: (w) => w.writeUint(7, 87) });
  const ed2 = msg.slice();
  ed2[7] = 2;
  ed2[12] = 1; // edition 3's sub-centre octet is the high byte of edition 2's centre
  const m = decodeBufr(ed2);
  assert.equal(m.edition, 2);
  assert.equal(m.section1.centre, 256 + 98);
  assert.equal(m.section1.subCentre, 0);
  assert.deepEqual(values(m.subsets[0]), [87]);
});

void test('compressed data (regulation 94.6.3) as columns: one Float64Array per varying element, NaN = missing; items built on demand', () => {
  const m = decodeBufr(
    buildMessage({
      subsets: 3,
      compressed: true,
      descriptors: [1001, T],
      data: (w) => {
        w.writeUint(7, 87); // 0 01 001 R0, NBINC 0: the same in all subsets
        w.writeUint(6, 0);
        w.writeUint(16, 27315); // 0 12 101 R0
        w.writeUint(6, 12); // NBINC 12
        w.writeUint(12, 0);
        w.writeUint(12, 2000);
        w.writeUint(12, 0xfff); // all ones: missing in subset 3
      },
    }),
  );
  const [block, temp] = m.columns ?? [];
  assert.equal(block?.constant, 87);
  assert.deepEqual([...(temp?.numbers ?? [])], [273.15, 293.15, Number.NaN]);
  assert.deepEqual(
    m.subsets.map((s) => values(s)),
    [
      [87, 273.15],
      [87, 293.15],
      [87, null],
    ],
  );
  assert.equal(m.subsets[0]?.[0], m.subsets[2]?.[0], 'the shared value is one item');
  assert.equal(
    decodeBufr(buildMessage({ descriptors: [1001], data: (w) => w.writeUint(7, 1) })).columns,
    null,
  );
});
