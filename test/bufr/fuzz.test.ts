/**
 * Bounded fuzz: mutated encoder output (always) and a mutated real file (when ../shared is
 * present). Every case must decode or throw a typed BUFR error: never another exception, a hang
 * or an unbounded allocation. Longer runs: node --import tsx scripts/fuzz-bufr.ts.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { encodeRadarVolume } from '../../src/bufr/encoder.js';
import { makeSyntheticVolume } from '../../src/bufr/synthetic.js';
import { fuzzOne } from '../../scripts/fuzz-bufr.js';
import { fixturesDir, sharedMissing } from './helpers.js';
import { mutate, prng } from './mutate.js';

const CASES = 300;

void test(`fuzz: ${CASES} mutations of encoder output decode or fail with a typed error`, () => {
  const base = encodeRadarVolume(
    makeSyntheticVolume({ nrays: 36, ngates: 60, elevations: [0.5, 1.5, 2.5], strategy: null, seed: 7 }),
  );
  const rand = prng(20251020);
  const outcomes = { ok: 0, format: 0, unsupported: 0 };
  for (let i = 0; i < CASES; i++) {
    const r = fuzzOne(mutate(base, rand), `case-${i}`);
    outcomes[r]++;
  }
  assert.equal(outcomes.ok + outcomes.format + outcomes.unsupported, CASES);
  assert.ok(outcomes.format > CASES / 3, JSON.stringify(outcomes));
});

void test('fuzz: 100 mutations of a real volume', { skip: sharedMissing ?? false }, () => {
  const base = readFileSync(path.join(fixturesDir, 'RMA11_0315_01_KDP_20251020T152828Z.BUFR'));
  const rand = prng(41);
  for (let i = 0; i < 100; i++) fuzzOne(mutate(base, rand), `kdp-${i}`);
});
