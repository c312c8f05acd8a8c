/**
 * BUFR files with several messages: GTS bulletin headers and padding between messages, a message
 * whose declared length lies, a message that fails to decode, and a truncated last message. Every
 * message gets its own entry; a bad one never stops the others. Also `radarlib decode` on such a
 * file, and the chunked iterator on a file larger than one read chunk.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { decodeBufrFile, iterateBufrFile, type BufrFileEntry } from '../../src/bufr/file.js';
import { decodeFiles, formatMessages, type MessagesSummary } from '../../src/cli/commands/decode.js';
import { BufrFormatError } from '../../src/errors.js';
import { buildMessage, sharedDir } from './helpers.js';
import { existsSync } from 'node:fs';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A message holding one temperature (0 12 101, scale 2, reference 0, 16 bits). */
function temperature(raw: number): Uint8Array {
  return buildMessage({ descriptors: [12101], data: (w) => w.writeUint(16, raw) });
}

/** A message naming an element no table has: decodes to a typed error. */
const unknownElement = buildMessage({ descriptors: [63255], data: (w) => w.writeUint(16, 1) });

const gtsHeader = enc('\x01\r\r\n052\r\r\nISMD01 OKPR 211200\r\r\n');
const lying = temperature(29000).slice();
lying[6] = (lying[6] as number) + 2; // declared length 2 bytes too long: no "7777" there
const file = concat([
  gtsHeader,
  temperature(29315),
  enc('\r\r\n\x03'),
  new Uint8Array(8), // NUL padding
  gtsHeader,
  unknownElement,
  lying,
  temperature(27315),
  temperature(30000).slice(0, 20), // truncated at the end of the file
]);

function values(e: BufrFileEntry | undefined): unknown {
  assert.ok(e?.ok === true, e?.ok === false ? e.error.message : 'missing entry');
  return e.message.subsets[0]?.map((i) => (i.kind === 'value' ? i.value : null));
}

function checkEntries(entries: readonly BufrFileEntry[]): void {
  assert.equal(entries.length, 5);
  assert.equal(entries[0]?.offset, gtsHeader.length, 'the GTS header is skipped');
  assert.deepEqual(values(entries[0]), [293.15]);
  const bad = entries[1];
  assert.ok(bad?.ok === false && bad.error instanceof BufrFormatError);
  assert.match(bad.error.message, /message 2 at byte \d+/);
  assert.match(bad.error.message, /0 63 255/);
  const lie = entries[2];
  assert.ok(lie?.ok === false && lie.error instanceof BufrFormatError);
  assert.match(lie.error.message, /no "7777" at the declared end/);
  assert.deepEqual(values(entries[3]), [273.15], 'the message after a lying one is still found');
  const cut = entries[4];
  assert.ok(cut?.ok === false && cut.error instanceof BufrFormatError);
  assert.match(cut.error.message, /runs past the end of the file/);
}

void test('decodeBufrFile: every message, GTS headers and padding skipped, bad messages reported', async () => {
  checkEntries(await decodeBufrFile(file, { file: 'bulletin.bufr' }));
});

const dir = mkdtempSync(path.join(tmpdir(), 'radarlib-bufr-file-'));
const filePath = path.join(dir, 'bulletin.bufr');
writeFileSync(filePath, file);

void test('iterateBufrFile yields the same entries from a path', async () => {
  const entries: BufrFileEntry[] = [];
  for await (const e of iterateBufrFile(filePath)) entries.push(e);
  checkEntries(entries);
  assert.deepEqual(
    entries.map((e) => [e.index, e.offset, e.length]),
    (await decodeBufrFile(filePath)).map((e) => [e.index, e.offset, e.length]),
  );
});

void test('iterateBufrFile across read chunks: 3000 messages with headers, 2.4 MB', async () => {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 3000; i++) parts.push(gtsHeader, temperature(20000 + i), new Uint8Array(700));
  const big = path.join(dir, 'big.bufr');
  writeFileSync(big, concat(parts));
  let n = 0;
  for await (const e of iterateBufrFile(big)) {
    assert.deepEqual(values(e), [(20000 + n) / 100]);
    n++;
  }
  assert.equal(n, 3000);
});

void test('a file without any BUFR message is a typed error', async () => {
  const junk = path.join(dir, 'junk.bin');
  writeFileSync(junk, enc('BUF not a message'));
  await assert.rejects(
    decodeBufrFile(junk),
    (e: unknown) => e instanceof BufrFormatError && /no "BUFR"/.test(e.message),
  );
  await assert.rejects(async () => {
    for await (const e of iterateBufrFile(junk)) void e;
  }, BufrFormatError);
});

void test('radarlib decode summarizes a general BUFR file per message', async () => {
  const [r] = await decodeFiles([filePath]);
  assert.ok(r !== undefined && 'messages' in r);
  const s: MessagesSummary = r;
  assert.equal(s.messages.length, 5);
  const first = s.messages[0];
  assert.ok(first !== undefined && !('error' in first));
  assert.equal(first.values, 1);
  assert.equal(first.centre, 41);
  assert.ok('error' in (s.messages[1] ?? {}));
  const table = formatMessages(s);
  assert.match(table, /5 messages/);
  assert.match(table, /RADARLIB_BUFR_FORMAT/);
});

const corpus = path.join(sharedDir, 'fixtures', 'bufr-general', 'pybufrkit');
const noCorpus = existsSync(corpus)
  ? false
  : `the general BUFR corpus is not at ${corpus} (../shared missing)`;

void test(
  'real bulletins: GTS headers (ISMD01 OKPR), padding between messages (prepbufr), invalid messages',
  { skip: noCorpus },
  async () => {
    const ismd = await decodeBufrFile(path.join(corpus, 'ISMD01_OKPR.bufr'));
    assert.deepEqual(
      ismd.map((e) => [e.offset, e.ok]),
      [
        [31, true],
        [758, true],
        [1507, true],
        [2242, true],
      ],
    );
    const [cli] = await decodeFiles([path.join(corpus, 'ISMD01_OKPR.bufr')]);
    const first = cli !== undefined && 'messages' in cli ? cli.messages[0] : undefined;
    assert.ok(first !== undefined && !('error' in first) && first.compressed);
    assert.equal(first.values, 7 * 116, '7 compressed subsets of 116 values (ecCodes: 812 numericValues)');
    const prep = await decodeBufrFile(path.join(corpus, 'prepbufr.bufr'));
    assert.equal(prep.length, 13);
    assert.equal(prep[1]?.offset, 4968, 'the 8 padding bytes after message 1 are skipped');
    assert.ok(
      prep[1]?.ok === true && prep[1].message.subsets.length === 0,
      'a message with 0 subsets decodes',
    );
    const invalid = await decodeBufrFile(path.join(corpus, 'multi_invalid_messages.bufr'));
    assert.deepEqual(
      invalid.map((e) => e.ok),
      [false, true, false],
    );
    const streamed: BufrFileEntry[] = [];
    for await (const e of iterateBufrFile(path.join(corpus, 'prepbufr.bufr'))) streamed.push(e);
    assert.deepEqual(
      streamed.map((e) => [e.offset, e.ok]),
      prep.map((e) => [e.offset, e.ok]),
    );
  },
);
