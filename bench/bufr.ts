/**
 * BUFR decode benchmark: decode each fixture N times and, in the same run, time zlib-inflating
 * the same sweep payloads alone (the floor no decoder can beat). Also measures, in a fresh child
 * process per file, the peak memory of one decode against the bytes of the decoded arrays.
 *
 *   node --import tsx bench/bufr.ts [iterations=30]
 *
 * Uses ../shared/fixtures/bufr when present, else synthetic volumes of the same sizes.
 * Prints a table and writes bench/results/bufr.json.
 */

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';
import { encodeRadarVolume } from '../src/bufr/encoder.js';
import { readRadarVolume, readRadarVolumeSync, readRawVolume } from '../src/bufr/radar-volume.js';
import { makeSyntheticVolume } from '../src/bufr/synthetic.js';
import { median } from './lib/stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..');
const fixturesDir = path.resolve(repoRoot, '..', 'shared', 'fixtures', 'bufr');

interface Input {
  name: string;
  bytes: Uint8Array;
}

function inputs(): Input[] {
  if (existsSync(fixturesDir)) {
    return readdirSync(fixturesDir)
      .filter((f) => f.endsWith('.BUFR'))
      .sort()
      .map((f) => ({ name: f, bytes: readFileSync(path.join(fixturesDir, f)) }));
  }
  return [
    {
      name: 'synthetic-15x360x653',
      bytes: encodeRadarVolume(
        makeSyntheticVolume({
          nrays: 360,
          ngates: 653,
          elevations: Array.from({ length: 15 }, (_, i) => 0.5 + i),
        }),
      ),
    },
    {
      name: 'synthetic-5x360x320',
      bytes: encodeRadarVolume(
        makeSyntheticVolume({ nrays: 360, ngates: 320, elevations: [0.5, 0.9, 1.3, 1.8, 19.95] }),
      ),
    },
  ];
}

function procStatusKb(field: string): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}

/**
 * Child mode: one decode in a fresh process. On Linux the peak RSS (VmHWM) is reset just before
 * the decode (`echo 5 > /proc/self/clear_refs`), so the peak is the decode's own; elsewhere it
 * falls back to maxRSS, which can include start-up peaks (reported as `approx`).
 */
function child(file: string): void {
  const bytes = readFileSync(file);
  // Warm the code paths on a tiny volume so JIT/module memory is in the baseline.
  readRadarVolumeSync(encodeRadarVolume(makeSyntheticVolume({ nrays: 8, ngates: 8, elevations: [1] })));
  (globalThis as { gc?: () => void }).gc?.();
  let exact = true;
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    exact = false;
  }
  const base = (procStatusKb('VmRSS') ?? process.memoryUsage().rss / 1024) * 1024;
  const v = readRadarVolumeSync(bytes);
  const hwm = exact ? procStatusKb('VmHWM') : null;
  const peak = hwm !== null ? hwm * 1024 : process.resourceUsage().maxRSS * 1024;
  const arrays = v.sweeps.reduce((n, s) => n + s.values.byteLength, 0);
  process.stdout.write(JSON.stringify({ peakDelta: Math.max(0, peak - base), arrays, exact: hwm !== null }));
}

async function main(): Promise<void> {
  const iterations = Number(process.argv[2] ?? 30);
  const rows: Record<string, number | string>[] = [];
  for (const input of inputs()) {
    const { raw } = readRawVolume(input.bytes, input.name);
    const payloads = raw.sweeps.flatMap((s) => s.parameters.map((p) => p.payload));
    const sizes = raw.sweeps.flatMap((s) => s.parameters.map(() => 8 * s.nrays * s.ngates));
    const floorOnce = (): void => {
      // Two inflate configurations; the faster one is the floor.
      for (const p of payloads) inflateSync(p);
    };
    const floorTuned = (): void => {
      payloads.forEach((p, i) => inflateSync(p, { chunkSize: Math.max(64, (sizes[i] as number) + 64) }));
    };
    for (let w = 0; w < 3; w++) {
      readRadarVolumeSync(input.bytes);
      floorOnce();
      floorTuned();
    }
    const dec: number[] = [];
    const decAsync: number[] = [];
    const fl: number[] = [];
    const flTuned: number[] = [];
    for (let i = 0; i < iterations; i++) {
      // Interleaved, so machine noise hits decoder and floor alike.
      let t = performance.now();
      readRadarVolumeSync(input.bytes);
      dec.push(performance.now() - t);
      t = performance.now();
      floorOnce();
      fl.push(performance.now() - t);
      t = performance.now();
      floorTuned();
      flTuned.push(performance.now() - t);
      t = performance.now();
      await readRadarVolume(input.bytes);
      decAsync.push(performance.now() - t);
    }
    const floor = Math.min(median(fl), median(flTuned));
    const decode = median(dec);
    // Memory: one decode in a fresh process (synthetic inputs go through a temp file).
    let file = path.join(fixturesDir, input.name);
    if (!existsSync(file)) {
      file = path.join(mkdtempSync(path.join(os.tmpdir(), 'radarlib-bench-')), input.name);
      writeFileSync(file, input.bytes);
    }
    const out = execFileSync(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--child', file],
      { encoding: 'utf8' },
    );
    const mem = JSON.parse(out) as { peakDelta: number; arrays: number; exact: boolean };
    rows.push({
      file: input.name,
      bytes: input.bytes.length,
      sweeps: raw.sweeps.length,
      decodedMB: +(sizes.reduce((a, b) => a + b, 0) / 1e6).toFixed(1),
      decodeMs: +decode.toFixed(2),
      decodeAsyncMs: +median(decAsync).toFixed(2),
      floorMs: +floor.toFixed(2),
      ratio: +(decode / floor).toFixed(3),
      peakMemMB: +(mem.peakDelta / 1e6).toFixed(1),
      memRatio: +(mem.peakDelta / mem.arrays).toFixed(2),
      memExact: mem.exact ? 'yes' : 'approx',
    });
  }
  const totalDecode = rows.reduce((n, r) => n + (r['decodeMs'] as number), 0);
  const totalFloor = rows.reduce((n, r) => n + (r['floorMs'] as number), 0);
  console.table(rows);
  console.log(
    `total: decode ${totalDecode.toFixed(1)} ms, floor ${totalFloor.toFixed(1)} ms, ratio ${(totalDecode / totalFloor).toFixed(3)}`,
  );
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    iterations,
    rows,
    total: {
      decodeMs: +totalDecode.toFixed(2),
      floorMs: +totalFloor.toFixed(2),
      ratio: +(totalDecode / totalFloor).toFixed(3),
    },
  };
  mkdirSync(path.join(here, 'results'), { recursive: true });
  writeFileSync(path.join(here, 'results', 'bufr.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log('wrote bench/results/bufr.json');
}

if (process.argv[2] === '--child') child(process.argv[3] as string);
else await main();
