/**
 * The generic decoder on small hand-built messages: editions, replication kinds, operators
 * 2 01 / 2 02 / 2 07 / 2 08, compressed subsets, and the typed errors for what it refuses.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BitWriter } from '../../src/bufr/bit-writer.js';
import { decodeBufr, type DataItem } from '../../src/bufr/decoder.js';
import { buildTables, masterTables, mergeTables } from '../../src/bufr/tables/index.js';
import { BufrFormatError, BufrUnsupportedError } from '../../src/errors.js';
import { buildMessage } from './helpers.js';

const values = (items: DataItem[] | undefined): (number | string | null | number[])[] =>
  (items ?? []).map((i) =>
    i.kind === 'value' ? i.value : i.kind === 'bytes' ? [...(i.bytes ?? [])] : [i.descriptor],
  );

function text(w: BitWriter, n: number, s: string): void {
  w.writeText(n, s);
}

void test('edition 4 and edition 3 messages with a sequence and scaled values', () => {
  for (const edition of [3, 4] as const) {
    const m = decodeBufr(
      buildMessage({
        edition,
        descriptors: [301001, 12101, 7030],
        data: (w) => {
          w.writeUint(7, 87);
          w.writeUint(10, 344);
          w.writeUint(16, 29315);
          w.writeUint(17, 4000 + 8360);
        },
      }),
    );
    assert.equal(m.edition, edition);
    assert.equal(m.section1.year, 2025);
    assert.deepEqual(values(m.subsets[0]), [87, 344, 293.15, 836]);
    assert.deepEqual(
      m.subsets[0]?.map((i) => i.descriptor),
      [1001, 1002, 12101, 7030],
    );
  }
});

void test('all-ones numeric and text fields are missing (null)', () => {
  const m = decodeBufr(
    buildMessage({
      descriptors: [12101, 1015, 2001],
      data: (w) => {
        w.writeUint(16, 0xffff);
        w.writeBytes(new Uint8Array(20).fill(0xff));
        w.writeUint(2, 3);
      },
    }),
  );
  assert.deepEqual(values(m.subsets[0]), [null, null, null]);
});

void test('fixed, delayed (8-bit), short delayed (1-bit) and extended delayed (16-bit) replication', () => {
  const m = decodeBufr(
    buildMessage({
      descriptors: [102002, 1001, 1002, 101000, 31001, 12101, 101000, 31000, 1001, 101000, 31002, 30198],
      data: (w) => {
        w.writeUint(7, 1);
        w.writeUint(10, 2);
        w.writeUint(7, 3);
        w.writeUint(10, 4);
        w.writeUint(8, 2); // delayed factor
        w.writeUint(16, 100);
        w.writeUint(16, 200);
        w.writeUint(1, 1); // short delayed factor
        w.writeUint(7, 9);
        w.writeUint(16, 5); // extended factor, then 5 unaligned bytes
        w.writeBytes(Uint8Array.from([1, 2, 255, 4, 5]));
      },
    }),
  );
  assert.deepEqual(values(m.subsets[0]), [1, 2, 3, 4, 2, 1, 2, 1, 9, 5, [1, 2, 255, 4, 5]]);
  const run = m.subsets[0]?.at(-1);
  assert.equal(run?.kind, 'bytes');
  assert.equal(m.dataBitsUsed, 17 * 2 + 8 + 32 + 1 + 7 + 16 + 40);
});

void test('operators 2 01 (width), 2 02 (scale), 2 07 (scale, reference, width) and 2 08 (text width)', () => {
  const m = decodeBufr(
    buildMessage({
      descriptors: [
        201130, 12101, 2001, 201000, 12101, 202129, 12101, 202000, 207002, 7030, 207000, 208004, 1015, 208000,
        1001,
      ],
      data: (w) => {
        w.writeUint(18, 200000); // 16 + 2 bits
        w.writeUint(2, 1); // code table: width unchanged by 2 01
        w.writeUint(16, 29315);
        w.writeUint(16, 29315); // scale 3
        // 0 07 030 with 2 07 002: scale 1+2, reference -4000*100, width 17 + (10*2+2)/3 = 24
        w.writeUint(24, 400000 + 836123);
        text(w, 4, 'ABCD'); // 2 08 004: 4 characters
        w.writeUint(7, 42);
      },
    }),
  );
  assert.deepEqual(values(m.subsets[0]), [2000, 1, 293.15, 29.315, 836.123, 'ABCD', 42]);
});

void test('several uncompressed subsets, operators reset per subset', () => {
  const m = decodeBufr(
    buildMessage({
      subsets: 2,
      descriptors: [1001, 12101],
      data: (w) => {
        for (const [a, b] of [
          [1, 10],
          [2, 20],
        ]) {
          w.writeUint(7, a as number);
          w.writeUint(16, b as number);
        }
      },
    }),
  );
  assert.deepEqual(m.subsets.map(values), [
    [1, 0.1],
    [2, 0.2],
  ]);
});

void test('compressed subsets: constant, incremented, missing, text and replicated elements', () => {
  const m = decodeBufr(
    buildMessage({
      subsets: 3,
      compressed: true,
      descriptors: [1001, 12101, 1015, 101000, 31001, 1002],
      data: (w) => {
        w.writeUint(7, 5);
        w.writeUint(6, 0); // all subsets 5
        w.writeUint(16, 29000);
        w.writeUint(6, 4);
        w.writeUint(4, 1);
        w.writeUint(4, 15); // missing
        w.writeUint(4, 3);
        w.writeBytes(new Uint8Array(20)); // text R0 (unused when NBINC > 0)
        w.writeUint(6, 3); // 3 characters per subset
        text(w, 3, 'ABC');
        text(w, 3, 'DEF');
        text(w, 3, 'GHI');
        w.writeUint(8, 2); // factor R0 = 2
        w.writeUint(6, 0);
        for (const v of [7, 8]) {
          w.writeUint(10, v);
          w.writeUint(6, 0);
        }
      },
    }),
  );
  assert.equal(m.section3.compressed, true);
  assert.deepEqual(m.subsets.map(values), [
    [5, 290.01, 'ABC', 2, 7, 8],
    [5, null, 'DEF', 2, 7, 8],
    [5, 290.03, 'GHI', 2, 7, 8],
  ]);
});

void test('compressed replication factors that differ between subsets are refused', () => {
  const msg = buildMessage({
    subsets: 2,
    compressed: true,
    descriptors: [101000, 31001, 1002],
    data: (w) => {
      w.writeUint(8, 1);
      w.writeUint(6, 1);
      w.writeUint(1, 0);
      w.writeUint(1, 1);
      w.writeUint(16, 0);
    },
  });
  assert.throws(
    () => decodeBufr(msg),
    (e: unknown) => e instanceof BufrFormatError && /differ/.test(e.message),
  );
});

void test('operators table C does not define (2 09, 2 50) and repetition factors are typed errors naming the descriptor', () => {
  for (const [descs, name] of [
    [[209032, 1001], '2 09 032'],
    [[250000, 1001], '2 50 000'],
    [[101000, 31011, 1001], '0 31 011'],
  ] as const) {
    const msg = buildMessage({ descriptors: descs, data: (w) => w.writeUint(32, 0) });
    assert.throws(
      () => decodeBufr(msg, { file: 'op.bufr' }),
      (e: unknown) => e instanceof BufrUnsupportedError && e.descriptor === name && e.file === 'op.bufr',
      name,
    );
  }
});

void test('unknown descriptors are format errors naming them; table loops are bounded', () => {
  for (const [descs, name] of [
    [[63255], '0 63 255'],
    [[363255], '3 63 255'],
  ] as const) {
    const msg = buildMessage({ descriptors: descs, data: (w) => w.writeUint(16, 0) });
    assert.throws(
      () => decodeBufr(msg),
      (e: unknown) => e instanceof BufrFormatError && e.descriptor === name && e.section === 4,
    );
  }
  const loop = mergeTables(masterTables(), buildTables([], [[[348001, [1001, 348001]]]]));
  const msg = buildMessage({ descriptors: [348001], data: (w) => w.writeUint(7 * 80, 0) });
  assert.throws(
    () => decodeBufr(msg, { tables: loop }),
    (e: unknown) => e instanceof BufrFormatError && /nested|past the end/.test(e.message),
  );
});

void test('tables can be given as a set or as a provider', () => {
  const local = mergeTables(masterTables(), buildTables([[[48001, 'x', 'Numeric', 1, -5, 9]]], []));
  const msg = buildMessage({ centre: 85, descriptors: [48001], data: (w) => w.writeUint(9, 15) });
  assert.throws(() => decodeBufr(msg), BufrFormatError);
  assert.deepEqual(values(decodeBufr(msg, { tables: local }).subsets[0]), [1]);
  let seen = 0;
  const viaProvider = decodeBufr(msg, {
    tables: (k) => {
      seen = k.centre;
      return local;
    },
  });
  assert.equal(seen, 85);
  assert.deepEqual(values(viaProvider.subsets[0]), [1]);
});

void test('operator-only replications cannot spin forever', () => {
  // 255 x 255 x 255 replications of an operator read no data: bounded by the step budget.
  const msg = buildMessage({ descriptors: [103255, 102255, 101255, 201000], data: (w) => w.writeUint(8, 0) });
  assert.throws(
    () => decodeBufr(msg),
    (e: unknown) => e instanceof BufrFormatError && /steps/.test(e.message),
  );
});
