/**
 * The data description operators, one hand-built message each, named by the regulation they
 * implement (WMO Manual on Codes, Vol. I.2, FM 94 BUFR, table C and its notes; regulation 94.6.3
 * for compressed data). The real-data check of the same operators is eccodes-compare.test.ts.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { decodeBufr, type BufrMessage, type DataItem, type ValueItem } from '../../src/bufr/decoder.js';
import { BufrFormatError } from '../../src/errors.js';
import { buildMessage, repoRoot, type MessageSpec } from './helpers.js';

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

void test('compressed columns keep their numbers when later messages are decoded (the decoder reuses a scratch buffer)', () => {
  // 3000 subsets x 2 varying elements: more than the scratch buffer's first size, so it grows.
  const message = (base: number): Uint8Array =>
    buildMessage({
      subsets: 3000,
      compressed: true,
      descriptors: [T, T],
      data: (w) => {
        for (let e = 0; e < 2; e++) {
          w.writeUint(16, base + e); // R0
          w.writeUint(6, 12); // NBINC 12
          for (let s = 0; s < 3000; s++) w.writeUint(12, (s * 7 + e) % 4000);
        }
      },
    });
  const expected = (base: number, e: number): number[] =>
    Array.from({ length: 3000 }, (_, s) => (base + e + ((s * 7 + e) % 4000)) / 100);
  const first = decodeBufr(message(27000));
  const kept = first.columns?.map((c) => c.numbers) ?? [];
  decodeBufr(message(20000));
  decodeBufr(message(10000));
  for (const e of [0, 1]) {
    const numbers = kept[e];
    assert.ok(numbers !== undefined);
    assert.deepEqual(Array.from(numbers), expected(27000, e));
  }
  assert.equal(kept[0]?.buffer, kept[1]?.buffer, 'one buffer per message');
});

// 2 41-2 43: messages of WMO master table 16 only (centre 98, local version 0), so that ecCodes
// reads them with the same tables.
const P_EVENT = 33045; // 0 33 045 probability of following event: %, 7 bits
const P_COND = 33046; // 0 33 046 conditional probability of following event: %, 7 bits
const LIMIT = 33042; // 0 33 042 type of limit represented by following value: code table, 3 bits
const PRECIP = 13011; // 0 13 011 total precipitation: kg m-2, scale 1, reference -1, 14 bits
const VIS = 20001; // 0 20 001 horizontal visibility: m, scale -1, 13 bits

function eventMessage(spec: Omit<MessageSpec, 'centre' | 'localTableVersion'>): Uint8Array {
  return buildMessage({ ...spec, centre: 98, localTableVersion: 0 });
}

const PYTHON = '/usr/bin/python3';
const eccodesMissing: string | null =
  spawnSync(PYTHON, ['-c', 'import eccodes'], { encoding: 'utf8' }).status === 0
    ? null
    : `python3-eccodes is not installed (${PYTHON} -c 'import eccodes' failed): run .ci/install-eccodes.sh`;

interface EccodesDump {
  ok: boolean;
  error?: string;
  subsets?: number;
  values?: (number | null)[];
}

/** ecCodes' decode of one message, through test/bufr/eccodes-dump.py on a temporary file. */
function eccodesDecode(bytes: Uint8Array): EccodesDump {
  const dir = mkdtempSync(path.join(tmpdir(), 'radarlib-bufr-op-'));
  try {
    const file = path.join(dir, 'message.bufr');
    writeFileSync(file, bytes);
    const run = spawnSync(PYTHON, [path.join(repoRoot, 'test', 'bufr', 'eccodes-dump.py'), file], {
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    const [entry] = JSON.parse(run.stdout) as EccodesDump[];
    assert.ok(entry !== undefined, 'ecCodes listed no message');
    return entry;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Our items in ecCodes' numericValues layout (subset after subset; one entry per element and per
 * operator, which ecCodes lists as 0), or the reason the cross-check cannot run.
 */
function crossCheck(t: TestContext, m: BufrMessage, bytes: Uint8Array): void {
  if (eccodesMissing !== null) {
    t.diagnostic(`ecCodes cross-check skipped: ${eccodesMissing}`);
    return;
  }
  const ec = eccodesDecode(bytes);
  if (!ec.ok) {
    // ecCodes 2.28 refuses 2 43 ("unsupported operator 43"), which table C defines like 2 41.
    t.diagnostic(`ecCodes cross-check not possible, ecCodes refuses the message: ${ec.error ?? '?'}`);
    assert.ok(m.subsets.flat().some((i) => i.descriptor >= 243000 && i.descriptor <= 243255));
    return;
  }
  const ours = m.subsets.flat().map((i) => (i.kind === 'value' ? i.value : i.kind === 'operator' ? 0 : NaN));
  assert.equal(ec.subsets, m.subsets.length);
  assert.equal(ours.length, ec.values?.length, 'as many entries as ecCodes lists');
  ours.forEach((v, k) => {
    const theirs = ec.values?.[k] ?? null;
    if (typeof v === 'number' && typeof theirs === 'number')
      assert.ok(Math.abs(v - theirs) <= 1e-12 * Math.abs(v), `entry ${k}: ${v}, ecCodes ${theirs}`);
    else assert.equal(v, theirs, `entry ${k}`);
  });
  t.diagnostic(`ecCodes cross-check: ${ours.length} entries equal`);
}

void test('2 41 000 / 2 41 255 define event and 2 42 000 / 2 42 255 define conditioning event (table C 2 41, 2 42 and notes): markers without bits; the event elements, 0 31 031 included, read as their descriptors say; not counted by bit-maps', (t) => {
  const bytes = eventMessage({
    descriptors: [
      T,
      // probability that the event "precipitation >= 1.0 kg m-2" happens
      ...[P_EVENT, 241000, LIMIT, PRECIP, BIT, 241255],
      // ... given the conditioning event "temperature < 273.15 K"
      ...[P_COND, 242000, LIMIT, T, 242255],
      // quality of the first and last temperature: the markers are not data elements
      ...[222000, ...Array<number>(8).fill(BIT), Q, Q],
    ],
    data: (w) => {
      w.writeUint(16, 29315);
      w.writeUint(7, 30); // 30 %
      w.writeUint(3, 1); // inclusive lower limit
      w.writeUint(14, 11); // (11 - 1) / 10 = 1.0
      w.writeUint(1, 1); // an element of the event, read as one bit (not the start of a bit-map)
      w.writeUint(7, 60);
      w.writeUint(3, 2); // exclusive upper limit
      w.writeUint(16, 27315);
      for (const b of [0, 1, 1, 1, 1, 1, 1, 0]) w.writeUint(1, b);
      w.writeUint(7, 90);
      w.writeUint(7, 70);
    },
  });
  const m = decodeBufr(bytes);
  const s = m.subsets[0];
  assert.deepEqual(values(s), [
    293.15,
    30,
    'op 241000',
    1,
    1,
    1,
    'op 241255',
    60,
    'op 242000',
    2,
    273.15,
    'op 242255',
    'op 222000',
    0,
    1,
    1,
    1,
    1,
    1,
    1,
    0,
    90,
    70,
  ]);
  assert.equal(item(s, 21).refersTo, 0);
  assert.equal(item(s, 22).refersTo, 10, 'the 8th element is the temperature of the conditioning event');
  assert.equal(s?.[2]?.bitOffset, s?.[3]?.bitOffset, 'the marker reads no bits');
  crossCheck(t, m, bytes);

  // Substituted values (2 23 255) are read as the elements the bit-map picks: the markers inside
  // the bit-map's span are skipped, so the widths (7 bits for 0 01 001, 16 for 0 12 101) line up.
  const substituted = eventMessage({
    descriptors: [T, 1001, 241000, T, 241255, 223000, BIT, BIT, BIT, 223255, 223255],
    data: (w) => {
      w.writeUint(16, 29315);
      w.writeUint(7, 87);
      w.writeUint(16, 27315);
      for (const b of [0, 1, 0]) w.writeUint(1, b);
      w.writeUint(16, 29300);
      w.writeUint(16, 27300);
    },
  });
  const sm = decodeBufr(substituted);
  const ss = sm.subsets[0];
  assert.deepEqual(values(ss).slice(-2), [293, 273]);
  assert.deepEqual([item(ss, 9).refersTo, item(ss, 10).refersTo], [0, 3]);
  crossCheck(t, sm, substituted);
});

void test('2 43 000 / 2 43 255 categorical forecast values follow (table C 2 43 and notes), uncompressed and compressed (regulation 94.6.3)', (t) => {
  const bytes = eventMessage({
    descriptors: [243000, LIMIT, VIS, T, 243255, T],
    data: (w) => {
      w.writeUint(3, 3); // inclusive upper limit
      w.writeUint(13, 500); // 500 * 10 = 5000 m
      w.writeUint(16, 28815);
      w.writeUint(16, 28315); // after 2 43 255: an ordinary value
    },
  });
  const m = decodeBufr(bytes);
  assert.deepEqual(values(m.subsets[0]), ['op 243000', 3, 5000, 288.15, 'op 243255', 283.15]);
  crossCheck(t, m, bytes);

  const packed = eventMessage({
    subsets: 2,
    compressed: true,
    descriptors: [243000, T, 243255, 1001],
    data: (w) => {
      w.writeUint(16, 28315); // 0 12 101 R0
      w.writeUint(6, 10); // NBINC 10
      w.writeUint(10, 0);
      w.writeUint(10, 500); // subset 2: 288.15 K
      w.writeUint(7, 87); // 0 01 001, the same in both subsets
      w.writeUint(6, 0);
    },
  });
  const c = decodeBufr(packed);
  assert.deepEqual(
    c.columns?.map((col) => col.kind),
    ['operator', 'value', 'operator', 'value'],
  );
  assert.deepEqual(
    c.subsets.map((sub) => values(sub)),
    [
      ['op 243000', 283.15, 'op 243255', 87],
      ['op 243000', 288.15, 'op 243255', 87],
    ],
  );
  crossCheck(t, c, packed);
});

void test('2 41-2 43 (table C): only YYY = 000 and 255 are defined; an event marker ends a pending bit-map', () => {
  for (const code of [241001, 242128, 243254]) {
    const msg = eventMessage({ descriptors: [code, T], data: (w) => w.writeUint(16, 0) });
    assert.throws(
      () => decodeBufr(msg),
      (e: unknown) => e instanceof BufrFormatError && /is not defined/.test(e.message),
      String(code),
    );
  }
  // 2 22 000 without bits right after it: the 0 31 031 of the event is the event's, so the
  // quality value relates to nothing (an ordinary value).
  const m = decodeBufr(
    eventMessage({
      descriptors: [T, 222000, 241000, BIT, 241255, Q],
      data: (w) => {
        w.writeUint(16, 29315);
        w.writeUint(1, 0);
        w.writeUint(7, 90);
      },
    }),
  );
  const s = m.subsets[0];
  assert.deepEqual(values(s), [293.15, 'op 222000', 'op 241000', 0, 'op 241255', 90]);
  assert.equal(item(s, 5).refersTo, undefined);
});
