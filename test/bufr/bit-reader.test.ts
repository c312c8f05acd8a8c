import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BitReader } from '../../src/bufr/bit-reader.js';
import { BitWriter } from '../../src/bufr/bit-writer.js';
import { BufrFormatError } from '../../src/errors.js';

void test('readUint reads MSB-first fields across byte boundaries', () => {
  const r = new BitReader(Uint8Array.from([0b10110011, 0b01011100, 0xff, 0x00]), 'x');
  assert.equal(r.readUint(3), 0b101);
  assert.equal(r.readUint(7), 0b1001101);
  assert.equal(r.readUint(6), 0b011100);
  assert.equal(r.readUint(16), 0xff00);
  assert.equal(r.remaining, 0);
});

void test('readUintOrMissing maps all ones to null (width > 1)', () => {
  const r = new BitReader(Uint8Array.from([0xff, 0xfc]), 'x');
  assert.equal(r.readUintOrMissing(8), null);
  assert.equal(r.readUintOrMissing(7), 126);
  assert.equal(r.readUintOrMissing(1), 0);
});

void test('writer and reader agree on random fields up to 53 bits, and on unaligned byte runs', () => {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const fields: [number, number][] = [];
  const w = new BitWriter(4);
  for (let i = 0; i < 2000; i++) {
    const n = 1 + Math.floor(rnd() * 53);
    const v = Math.floor(rnd() * 2 ** n);
    fields.push([n, v]);
    w.writeUint(n, v);
  }
  const run = Uint8Array.from({ length: 777 }, (_, i) => (i * 37) & 0xff);
  w.writeUint(3, 5);
  w.writeBytes(run);
  const bytes = w.finish();
  const r = new BitReader(bytes, 'x');
  for (const [n, v] of fields) assert.equal(r.readUint(n), v);
  assert.equal(r.readUint(3), 5);
  assert.deepEqual(r.readBytes(run.length), run);
});

void test('a read past the end is a BufrFormatError with the bit offset', () => {
  const r = new BitReader(new Uint8Array(2), 'f.bufr', 0, 12);
  r.section = 4;
  r.readUint(10);
  assert.throws(
    () => r.readUint(3),
    (e: unknown) =>
      e instanceof BufrFormatError && e.bitOffset === 10 && e.section === 4 && e.file === 'f.bufr',
  );
  assert.throws(() => r.readBytes(1), BufrFormatError);
  assert.throws(() => r.skip(3), BufrFormatError);
});

void test('readText returns latin1 text and null when all bits are ones', () => {
  const r = new BitReader(Uint8Array.from([0x52, 0x4d, 0x41, 0xff, 0xff]), 'x');
  assert.equal(r.readText(3), 'RMA');
  assert.equal(r.readText(2), null);
});

void test('readUintsInto reads the same fields as readUint, at every width, start bit and up to the last bit', () => {
  // Pseudo-random bytes; the runs end exactly at the last bit of the buffer, so the fields whose
  // 32-bit window would pass the end take the one-at-a-time path.
  const bytes = Uint8Array.from({ length: 64 }, (_, i) => (i * 2654435761) >>> 13);
  for (let width = 1; width <= 53; width++) {
    for (let start = 0; start < 8; start++) {
      const count = Math.floor((bytes.length * 8 - start) / width);
      const endBit = start + count * width;
      const one = new BitReader(bytes, 'x', start, endBit);
      const expected = Array.from({ length: count }, () => one.readUint(width));
      const many = new BitReader(bytes, 'x', start, endBit);
      const out = new Float64Array(count + 2);
      many.readUintsInto(width, out, 1, count);
      assert.deepEqual(Array.from(out.subarray(1, count + 1)), expected, `width ${width}, start ${start}`);
      assert.equal(out[0], 0);
      assert.equal(out[count + 1], 0);
      assert.equal(many.pos, endBit);
    }
  }
  const short = new BitReader(Uint8Array.from([0xff, 0xff]), 'x');
  assert.throws(() => short.readUintsInto(5, new Float64Array(4), 0, 4), BufrFormatError);
  assert.equal(short.pos, 0, 'nothing read when the run does not fit');
});
