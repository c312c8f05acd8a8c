/**
 * The section layout tables that readSections and writeMessage share: each tiles its octets as
 * the Manual on Codes numbers them, and what writeMessage writes, readSections reads back.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDescriptor } from '../../src/bufr/descriptors.js';
import {
  fixedOctets,
  SECTION0,
  SECTION1,
  SECTION3,
  SECTION5,
  SECTION_HEAD,
  writeFields,
  type Layout,
} from '../../src/bufr/section-layouts.js';
import { writeMessage, type MessageParts } from '../../src/bufr/section-writer.js';
import { readSections } from '../../src/bufr/sections.js';
import { InvalidArgumentError } from '../../src/errors.js';

void test('each layout covers octets 1..n once, in order, with the Manual lengths', () => {
  const layouts: [string, Layout<string>, number][] = [
    ['section 0', SECTION0, 8],
    ['section 1, edition 2', SECTION1[2], 17],
    ['section 1, edition 3', SECTION1[3], 17],
    ['section 1, edition 4', SECTION1[4], 22],
    ['section 2/4 head', SECTION_HEAD, 4],
    ['section 3', SECTION3, 7],
    ['section 5', SECTION5, 4],
  ];
  for (const [title, layout, octets] of layouts) {
    let next = 1;
    for (const f of layout) {
      assert.equal(f.octet, next, `${title}: ${f.name} starts where the field before ends`);
      next += f.octets;
    }
    assert.equal(fixedOctets(layout), octets, title);
    assert.equal(new Set(layout.map((f) => f.name)).size, layout.length, `${title}: names are unique`);
  }
});

const parts: MessageParts = {
  what: 'test message',
  section1: {
    masterTable: 0,
    centre: 41,
    subCentre: 3,
    updateSequence: 1,
    dataCategory: 6,
    internationalSubCategory: 2,
    localSubCategory: 7,
    masterTableVersion: 16,
    localTableVersion: 2,
    year: 2025,
    month: 10,
    day: 20,
    hour: 15,
    minute: 28,
    second: 59,
  },
  section3: { numberOfSubsets: 3, observed: true, compressed: true, descriptors: [321204, 301031, 1001] },
  data: Uint8Array.from([1, 2, 3, 4, 5]),
};

void test('readSections reads back every field writeMessage wrote', () => {
  const bytes = writeMessage(parts);
  const s = readSections(bytes, 'written');
  assert.equal(s.edition, 4);
  assert.equal(s.totalLength, bytes.length);
  const { length, hasSection2, local, ...section1 } = s.section1;
  assert.deepEqual(section1, parts.section1);
  assert.equal(hasSection2, false);
  assert.equal(local.length, 0);
  assert.equal(length, 22);
  assert.equal(s.section2, null);
  assert.deepEqual(s.section3.descriptors.map(formatDescriptor), ['3 21 204', '3 01 031', '0 01 001']);
  assert.equal(s.section3.numberOfSubsets, 3);
  assert.equal(s.section3.observed, true);
  assert.equal(s.section3.compressed, true);
  // 7 + 3 * 2 = 13 octets and 4 + 5 = 9 octets: each padded to an even length.
  assert.deepEqual(s.lengths, { '0': 8, '1': 22, '2': 0, '3': 14, '4': 10, '5': 4 });
  const dataStart = s.section4Offset + fixedOctets(SECTION_HEAD);
  assert.deepEqual([...bytes.subarray(dataStart, dataStart + 6)], [1, 2, 3, 4, 5, 0]);
  assert.equal(new TextDecoder().decode(bytes.subarray(-4)), '7777');
});

void test('a message too long for its length fields is refused, naming what it holds', () => {
  assert.throws(
    () => writeMessage({ ...parts, data: new Uint8Array(2 ** 24) }),
    (e: unknown) =>
      e instanceof InvalidArgumentError &&
      e.option === 'test message' &&
      /section 4 would be/.test(e.message),
  );
  assert.throws(
    () => writeMessage({ ...parts, data: new Uint8Array(2 ** 24 - 30) }),
    (e: unknown) => e instanceof InvalidArgumentError && /message would be \d+ bytes/.test(e.message),
  );
});

void test('writeFields refuses a value its octets cannot hold', () => {
  const out = new Uint8Array(8);
  assert.throws(
    () => writeFields(out, SECTION0, 0, { start: 0x42554652, totalLength: 2 ** 24, edition: 4 }),
    RangeError,
  );
  writeFields(out, SECTION0, 0, { start: 0x42554652, totalLength: 2 ** 24 - 1, edition: 4 });
  assert.deepEqual([...out], [0x42, 0x55, 0x46, 0x52, 0xff, 0xff, 0xff, 4]);
});
