/**
 * RMA_VOLUME, the one description of the radar structure that reader and writer share, says what
 * table D says: its elements, in order, are the expansion of section 3's descriptors in the
 * tables the files name (centre 41, local table version 2), each delayed replication taken once.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { descriptorF, descriptorX, descriptorY, formatDescriptor } from '../../src/bufr/descriptors.js';
import { RMA_VOLUME, type ElementGroup } from '../../src/bufr/rma-structure.js';
import { defaultTableProvider } from '../../src/bufr/tables/index.js';
import type { BufrTables } from '../../src/bufr/tables/types.js';

/** Element descriptors of a template: sequences expanded, fixed replications repeated, delayed ones once. */
function templateElements(codes: readonly number[], tables: BufrTables): number[] {
  const out: number[] = [];
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i] as number;
    if (descriptorF(code) === 3) {
      const members = tables.d.get(code);
      assert.ok(members !== undefined, `table D has ${formatDescriptor(code)}`);
      out.push(...templateElements(members, tables));
    } else if (descriptorF(code) === 1) {
      const x = descriptorX(code);
      const delayed = descriptorY(code) === 0;
      if (delayed) out.push(codes[i + 1] as number);
      const start = i + 1 + (delayed ? 1 : 0);
      const body = templateElements(codes.slice(start, start + x), tables);
      for (let k = 0; k < (delayed ? 1 : descriptorY(code)); k++) out.push(...body);
      i = start + x - 1;
    } else out.push(code);
  }
  return out;
}

/** The description's elements in data order, each delayed replication once. */
function describedElements(): number[] {
  const codes = (group: ElementGroup<string>): number[] => group.map((e) => e.code);
  const { stationIds, station, sweeps } = RMA_VOLUME;
  const p = sweeps.parameters;
  return [
    stationIds.factor,
    ...codes(stationIds.each),
    ...codes(station.identification),
    ...codes(station.time),
    ...codes(station.position),
    sweeps.factor,
    ...codes(sweeps.times), // start time
    ...codes(sweeps.times), // end time
    ...codes(sweeps.geometry),
    p.factor,
    p.moment.code,
    p.method.code,
    p.chunks.factor,
    p.chunks.length,
    p.chunks.byte,
  ];
}

void test("RMA_VOLUME is table D's expansion of 3 21 204, 3 01 031, 3 21 203", () => {
  for (const localTableVersion of [1, 2]) {
    const tables = defaultTableProvider({
      masterTable: 0,
      masterTableVersion: 16,
      centre: 41,
      subCentre: 0,
      localTableVersion,
    });
    assert.ok(tables !== undefined);
    assert.deepEqual(
      describedElements().map(formatDescriptor),
      templateElements(RMA_VOLUME.descriptors, tables).map(formatDescriptor),
      `local table version ${localTableVersion}`,
    );
  }
});

void test('the template expansion repeats fixed replications and takes delayed ones once', () => {
  const tables: BufrTables = { b: new Map(), d: new Map([[300001, [1001, 102002, 4001, 4002]]]) };
  // 1 02 000 0 31 001 (delayed, factor first), then the sequence with 1 02 002 (fixed, twice).
  assert.deepEqual(
    templateElements([102000, 31001, 1192, 1193, 300001], tables),
    [31001, 1192, 1193, 1001, 4001, 4002, 4001, 4002],
  );
});
