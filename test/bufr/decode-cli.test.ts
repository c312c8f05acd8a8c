/** `radarlib decode`: the exported logic and the registered command, on real temp files. */

import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import {
  decodeFiles,
  formatSummary,
  registerDecodeCommand,
  type VolumeSummary,
} from '../../src/cli/commands/decode.js';
import { encodeRadarVolume } from '../../src/bufr/encoder.js';
import { makeSyntheticVolume } from '../../src/bufr/synthetic.js';
import { FIXTURES, fixturesDir, sharedMissing } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'radarlib-decode-'));
const v = makeSyntheticVolume({ nrays: 36, ngates: 40, elevations: [0.5, 1.3] });
const good = path.join(dir, v.fileName as string);
writeFileSync(good, encodeRadarVolume(v));
const bad = path.join(dir, 'broken.BUFR');
writeFileSync(bad, 'not bufr');

void test('decodeFiles summarizes good files and reports bad ones without stopping', async () => {
  const [a, b, c] = await decodeFiles([good, bad, path.join(dir, 'missing.BUFR')]);
  assert.ok(a !== undefined && 'sweeps' in a);
  assert.equal(a.radar, 'RMA11');
  assert.equal(a.field, 'DBZH');
  assert.equal(a.sweeps.length, 2);
  const s = a.sweeps[1];
  assert.ok(s !== undefined);
  assert.equal(s.elevation, 1.3);
  assert.equal(s.validCount + s.noDataCount + s.fillCount + s.nanCount, 36 * 40);
  assert.ok(s.fillCount > 0 && s.min !== null && s.max !== null && s.min <= s.max);
  assert.ok(b !== undefined && 'error' in b && b.error.code === 'RADARLIB_BUFR_FORMAT');
  assert.ok(c !== undefined && 'error' in c && c.error.code === 'ENOENT');
  const table = formatSummary(a);
  assert.match(table, /rays x gates/);
  assert.match(table, /36 x 40/);
});

void test('the registered command prints JSON and sets the exit code on failure', async () => {
  const program = new Command('radarlib').exitOverride();
  registerDecodeCommand(program);
  const lines: string[] = [];
  const log = console.log;
  const err = console.error;
  console.log = (s: string) => void lines.push(s);
  console.error = () => undefined;
  const before = process.exitCode;
  try {
    await program.parseAsync(['node', 'radarlib', 'decode', good, '--json']);
    const parsed = JSON.parse(lines.join('\n')) as VolumeSummary[];
    assert.equal(parsed[0]?.sweeps.length, 2);
    assert.equal(process.exitCode, before);
    await program.parseAsync(['node', 'radarlib', 'decode', bad]);
    assert.equal(process.exitCode, 1);
  } finally {
    console.log = log;
    console.error = err;
    process.exitCode = before;
  }
});

void test('decode summarizes a real volume', { skip: sharedMissing ?? false }, async () => {
  const file = path.join(fixturesDir, (FIXTURES[2] as { name: string }).name);
  const [r] = await decodeFiles([file]);
  assert.ok(r !== undefined && 'sweeps' in r);
  assert.equal(r.sweeps.length, 15);
  assert.equal(r.sweeps[10]?.validCount, 0, 'KDP sweeps 10-12 have no valid value');
  assert.equal(r.sweeps[10]?.min, null);
});
