/**
 * The BUFR row of the report: runs the existing fuzz harness (`fuzzOne` of scripts/fuzz-bufr.ts
 * and the mutations of test/bufr/mutate.ts, unchanged) over encoder output and the shared real
 * fixtures, timing each decode and sampling memory. `fuzzOne` throws on anything but a decoded
 * volume or a typed BUFR error, so a crash fails this test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { encodeRadarVolume } from '../../src/bufr/encoder.js';
import { makeSyntheticVolume } from '../../src/bufr/synthetic.js';
import { fuzzOne, type FuzzOutcome } from '../../scripts/fuzz-bufr.js';
import { fixturesDir } from '../bufr/helpers.js';
import { mutate, prng } from '../bufr/mutate.js';
import { count, memorySampler, recordRow } from './helpers.js';

const CASES = count(400, 10_000);

test(`BUFR fuzz: ${CASES} mutated messages decode or fail typed`, { timeout: 600_000 }, () => {
  const bases: { name: string; bytes: Uint8Array }[] = [
    {
      name: 'synthetic',
      bytes: encodeRadarVolume(
        makeSyntheticVolume({ nrays: 36, ngates: 60, elevations: [0.5, 1.5, 2.5], strategy: null, seed: 7 }),
      ),
    },
  ];
  if (existsSync(fixturesDir)) {
    for (const f of readdirSync(fixturesDir)
      .filter((n) => n.endsWith('.BUFR'))
      .sort())
      bases.push({ name: f, bytes: readFileSync(path.join(fixturesDir, f)) });
  }
  const rand = prng(0xb0f7);
  const outcomes: Record<FuzzOutcome, number> = { ok: 0, format: 0, unsupported: 0 };
  const mem = memorySampler();
  let longest = 0;
  let longestCase = '';
  const started = performance.now();
  for (let i = 0; i < CASES; i++) {
    const base = bases[i % bases.length]!;
    const label = `${base.name}#${i}`;
    const bytes = mutate(base.bytes, rand);
    const t0 = performance.now();
    outcomes[fuzzOne(bytes, label)]++;
    const ms = performance.now() - t0;
    if (ms > longest) {
      longest = ms;
      longestCase = label;
    }
  }
  const totalS = (performance.now() - started) / 1000;
  recordRow({
    id: 'bufr-fuzz',
    scenario: 'BUFR decoder fuzz',
    injected: `mutations (truncation, bit flips, wrong lengths, absurd replication counts) of encoder output and ${bases.length - 1} real fixtures (../shared/fixtures/bufr${bases.length === 1 ? ': missing here' : ''})`,
    cases: CASES,
    lost: 0,
    duplicated: 0,
    corrupt: 0,
    maxRssMb: mem.stop(),
    longestHangMs: Math.round(longest),
    observed: `${outcomes.ok} decoded, ${outcomes.format} BufrFormatError, ${outcomes.unsupported} BufrUnsupportedError, 0 other exceptions; longest decode ${longest.toFixed(0)} ms (${path.basename(longestCase)}); ${totalS.toFixed(1)} s in all. Longer: npm run fuzz`,
  });
  assert.equal(outcomes.ok + outcomes.format + outcomes.unsupported, CASES);
});
