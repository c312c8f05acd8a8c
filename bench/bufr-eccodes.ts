/**
 * General BUFR decode speed against ECMWF ecCodes in-process (python3-eccodes, its C library), in
 * the same run, on the largest messages of the pybufrkit corpus that both decode.
 *
 * What each side does, per decode (and nothing is cached between decodes but the tables):
 * - radarlib: `decodeBufr(messageBytes)`, the call docs/BUFR.md shows for one message. Every value
 *   is decoded: uncompressed data into the per-subset item lists (`message.subsets`), compressed
 *   data into `message.columns` (per element: one scaled number when every subset has the same
 *   value, as the data store it, else a Float64Array with every subset's value). "with items"
 *   also builds the item lists of compressed messages (`message.subsets`, lazy: one object per
 *   varying value).
 * - ecCodes: `codes_new_from_message` + `unpack` + `codes_get_array(h, 'numericValues')` (every
 *   value of every subset as a double, in a NumPy array) + `codes_release`.
 * - files: radarlib `await decodeBufrFile(path)` (every message of the file, as docs/BUFR.md
 *   shows) against ecCodes `codes_bufr_new_from_file` + the same per message, both from disk.
 * - first message in a fresh process: the cost of the first decode after import (radarlib
 *   decompresses its built-in tables then; ecCodes reads its definition files), median of 3.
 * Medians; ratio = ecCodes / radarlib (> 1 means radarlib is faster).
 *
 *   node --import tsx bench/bufr-eccodes.ts [iterations=30] [messages=6]
 *
 * Needs ../shared/fixtures/bufr-general/pybufrkit and python3-eccodes (.ci/install-eccodes.sh);
 * without them it says why and exits 0, leaving the last results. Prints a table and writes
 * bench/results/bufr-eccodes.json (merged by `npm run bench`). Run it under the machine-wide lock:
 * `flock /tmp/radarlib-bench.lock node --import tsx bench/bufr-eccodes.ts`.
 */

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { decodeBufr } from '../src/bufr/decoder.js';
import { decodeBufrFile, splitBufrMessages } from '../src/bufr/file.js';
import { median } from './lib/stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..');
const corpusDir = path.resolve(repoRoot, '..', 'shared', 'fixtures', 'bufr-general', 'pybufrkit');
const PYTHON = '/usr/bin/python3';

/** Probe: can ecCodes decode this message at all (exit status 0)? */
const PROBE = `
import sys, json, eccodes as ec
spec = json.loads(sys.stdin.read())
data = open(spec['file'], 'rb').read()[spec['offset']:spec['offset'] + spec['length']]
h = ec.codes_new_from_message(data)
ec.codes_set(h, 'unpack', 1)
ec.codes_get_array(h, 'numericValues')
`;

/**
 * A persistent ecCodes timer: the messages and files come first (one JSON line), then one line
 * per request "m <message index> <n>" or "f <file index> <n>"; it answers the median of n decodes
 * in ms. Persistent, so the radarlib and ecCodes timings of each round are interleaved and share
 * the machine's noise.
 */
const TIMER = `
import sys, json, time, eccodes as ec
spec = json.loads(sys.stdin.readline())
datas = [open(s['file'], 'rb').read()[s['offset']:s['offset'] + s['length']] for s in spec['messages']]
files = spec['files']
def message(i):
    h = ec.codes_new_from_message(datas[i])
    ec.codes_set(h, 'unpack', 1)
    ec.codes_get_array(h, 'numericValues')
    ec.codes_release(h)
def whole_file(i):
    with open(files[i], 'rb') as f:
        while True:
            h = ec.codes_bufr_new_from_file(f)
            if h is None:
                break
            try:
                ec.codes_set(h, 'unpack', 1)
                ec.codes_get_array(h, 'numericValues')
            except ec.CodesInternalError:
                pass
            ec.codes_release(h)
for line in sys.stdin:
    kind, i, n = line.split()
    run = message if kind == 'm' else whole_file
    times = []
    for _ in range(int(n)):
        t = time.perf_counter()
        run(int(i))
        times.append(time.perf_counter() - t)
    times.sort()
    print(times[len(times) // 2] * 1000, flush=True)
`;

/** The first decode after import, in a fresh process: ms. */
const COLD_ECCODES = `
import sys, time, eccodes as ec
data = open(sys.argv[1], 'rb').read()[int(sys.argv[2]):int(sys.argv[2]) + int(sys.argv[3])]
t = time.perf_counter()
h = ec.codes_new_from_message(data)
ec.codes_set(h, 'unpack', 1)
ec.codes_get_array(h, 'numericValues')
ec.codes_release(h)
print((time.perf_counter() - t) * 1000)
`;
const COLD_RADARLIB = `
import { readFileSync } from 'node:fs';
import { decodeBufr } from ${JSON.stringify(path.join(repoRoot, 'src', 'bufr', 'decoder.ts'))};
const [file, offset, length] = process.argv.slice(-3);
const bytes = new Uint8Array(readFileSync(file)).subarray(Number(offset), Number(offset) + Number(length));
const t = performance.now();
decodeBufr(bytes);
console.log(performance.now() - t);
`;

interface Candidate {
  file: string;
  name: string;
  offset: number;
  length: number;
  bytes: Uint8Array;
  values: number;
}

function candidates(): Candidate[] {
  const out: Candidate[] = [];
  for (const f of readdirSync(corpusDir).filter((n) => n.endsWith('.bufr'))) {
    const file = path.join(corpusDir, f);
    for (const slice of splitBufrMessages(new Uint8Array(readFileSync(file)))) {
      if (slice.problem !== null) continue;
      try {
        const m = decodeBufr(slice.bytes);
        const values = m.subsets.reduce((n, s) => n + s.length, 0);
        out.push({
          file,
          name: `${f} #${slice.index + 1}`,
          offset: slice.offset,
          length: slice.bytes.length,
          bytes: slice.bytes,
          values,
        });
      } catch {
        // Not decodable here (NCEP local tables, invalid on purpose): not a speed question.
      }
    }
  }
  return out.sort((a, b) => b.length - a.length);
}

/** Why this machine cannot run the benchmark, or null. */
function missing(): string | null {
  if (!existsSync(corpusDir)) return `no corpus at ${corpusDir}`;
  const probe = spawnSync(PYTHON, ['-c', 'import eccodes'], { stdio: 'ignore' });
  if (probe.status !== 0) return `${PYTHON} cannot import eccodes (python3-eccodes: .ci/install-eccodes.sh)`;
  return null;
}

/** Median of 3 fresh processes' first decode of `c`, radarlib and ecCodes. */
function coldStart(c: Candidate): { radarlibMs: number; eccodesMs: number } {
  const args = [c.file, String(c.offset), String(c.length)];
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let k = 0; k < 3; k++) {
    ours.push(
      Number(
        execFileSync(
          process.execPath,
          ['--import', 'tsx', '--input-type=module', '-e', COLD_RADARLIB, ...args],
          {
            cwd: repoRoot,
            encoding: 'utf8',
          },
        ).trim(),
      ),
    );
    theirs.push(Number(execFileSync(PYTHON, ['-c', COLD_ECCODES, ...args], { encoding: 'utf8' }).trim()));
  }
  return { radarlibMs: median(ours), eccodesMs: median(theirs) };
}

const round3 = (x: number): number => +x.toFixed(3);
const ratio = (theirs: number, ours: number): number => +(theirs / ours).toFixed(2);

async function main(): Promise<void> {
  const iterations = Number(process.argv[2] ?? 30);
  const count = Number(process.argv[3] ?? 6);
  const why = missing();
  if (why !== null) {
    console.log(`bench/bufr-eccodes.ts skipped: ${why}`);
    return;
  }
  // The largest messages ecCodes also decodes (it lacks NCEP's prepbufr tables).
  const picked: Candidate[] = [];
  for (const c of candidates()) {
    if (picked.length >= count) break;
    try {
      execFileSync(PYTHON, ['-c', PROBE], {
        input: JSON.stringify({ file: c.file, offset: c.offset, length: c.length }),
        stdio: ['pipe', 'pipe', 'ignore'],
      });
      picked.push(c);
    } catch {
      // ecCodes cannot decode it: skip.
    }
  }
  const files = [...new Set(picked.map((c) => c.file))];
  const timer = spawn(PYTHON, ['-c', TIMER], { stdio: ['pipe', 'pipe', 'ignore'] });
  const replies = createInterface({ input: timer.stdout })[Symbol.asyncIterator]();
  timer.stdin.write(
    `${JSON.stringify({
      messages: picked.map((c) => ({ file: c.file, offset: c.offset, length: c.length })),
      files,
    })}\n`,
  );
  const eccodesMedian = async (kind: 'm' | 'f', i: number, n: number): Promise<number> => {
    timer.stdin.write(`${kind} ${i} ${n}\n`);
    const r = await replies.next();
    if (r.done === true) throw new Error('the ecCodes timer exited');
    return Number(r.value);
  };
  const ROUNDS = 5;
  const perRound = Math.max(3, Math.ceil(iterations / ROUNDS));
  const ours: number[] = [];
  const oursItems: number[] = [];
  const theirs: number[] = [];
  for (const [i, c] of picked.entries()) {
    // Steady state on both sides: the JIT compiles the paths this message takes (the first decode
    // in a fresh process is measured apart, below).
    for (let w = 0; w < 20; w++) {
      decodeBufr(c.bytes);
      void decodeBufr(c.bytes).subsets.length;
    }
    await eccodesMedian('m', i, 5);
    const t: number[] = [];
    const ti: number[] = [];
    const te: number[] = [];
    // Rounds alternate radarlib and ecCodes on the same message; the result is the median round.
    for (let round = 0; round < ROUNDS; round++) {
      // Columns and items in separate loops: the items' garbage is collected during the items
      // decodes, not charged to the next columns decode.
      const rt: number[] = [];
      const rti: number[] = [];
      for (let k = 0; k < perRound; k++) {
        const t0 = performance.now();
        decodeBufr(c.bytes);
        rt.push(performance.now() - t0);
      }
      for (let k = 0; k < perRound; k++) {
        const t0 = performance.now();
        void decodeBufr(c.bytes).subsets.length;
        rti.push(performance.now() - t0);
      }
      t.push(median(rt));
      ti.push(median(rti));
      te.push(await eccodesMedian('m', i, perRound));
    }
    ours.push(median(t));
    oursItems.push(median(ti));
    theirs.push(median(te));
  }
  const fileRows = [];
  for (const [j, file] of files.entries()) {
    await decodeBufrFile(file);
    await eccodesMedian('f', j, 3);
    const t: number[] = [];
    const te: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const rt: number[] = [];
      for (let k = 0; k < perRound; k++) {
        const t0 = performance.now();
        await decodeBufrFile(file);
        rt.push(performance.now() - t0);
      }
      t.push(median(rt));
      te.push(await eccodesMedian('f', j, perRound));
    }
    const entries = await decodeBufrFile(file);
    fileRows.push({
      file: path.basename(file),
      messages: entries.length,
      decoded: entries.filter((e) => e.ok).length,
      radarlibMs: round3(median(t)),
      eccodesMs: round3(median(te)),
      ratio: ratio(median(te), median(t)),
    });
  }
  timer.stdin.end();
  const rows = picked.map((c, i) => ({
    message: c.name,
    bytes: c.length,
    values: c.values,
    compressed: decodeBufr(c.bytes).columns !== null,
    radarlibMs: round3(ours[i] as number),
    withItemsMs: round3(oursItems[i] as number),
    eccodesMs: round3(theirs[i] as number),
    ratio: ratio(theirs[i] as number, ours[i] as number),
    ratioWithItems: ratio(theirs[i] as number, oursItems[i] as number),
  }));
  const smallest = picked.at(-1) as Candidate;
  const cold = { message: smallest.name, ...coldStart(smallest) };
  const totalOurs = ours.reduce((a, b) => a + b, 0);
  const totalTheirs = theirs.reduce((a, b) => a + b, 0);
  console.table(rows);
  console.table(fileRows);
  console.log(
    `total: radarlib ${totalOurs.toFixed(2)} ms, ecCodes ${totalTheirs.toFixed(2)} ms, ecCodes / radarlib ${(totalTheirs / totalOurs).toFixed(2)}; ` +
      `slowest message ×${Math.min(...rows.map((r) => r.ratio)).toFixed(2)}; ` +
      `first decode in a fresh process (${cold.message}): radarlib ${cold.radarlibMs.toFixed(1)} ms, ecCodes ${cold.eccodesMs.toFixed(1)} ms`,
  );
  mkdirSync(path.join(here, 'results'), { recursive: true });
  writeFileSync(
    path.join(here, 'results', 'bufr-eccodes.json'),
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        cpu: os.cpus()[0]?.model,
        loadAverage: os.loadavg().map((x) => +x.toFixed(2)),
        iterations,
        rows,
        files: fileRows,
        cold,
        total: {
          radarlibMs: round3(totalOurs),
          eccodesMs: round3(totalTheirs),
          ratio: ratio(totalTheirs, totalOurs),
          slowestRatio: Math.min(...rows.map((r) => r.ratio)),
        },
      },
      null,
      2,
    )}\n`,
  );
}

await main();
