/**
 * General BUFR decode speed against ECMWF ecCodes in-process (python3-eccodes, its C library):
 * the largest messages of the pybufrkit corpus that both decode, each decoded N times by
 * `decodeBufr` here and by `codes_new_from_message` + `unpack` + reading `numericValues` there
 * (the call that makes ecCodes decode every value), in the same run. Medians; ratio = ecCodes /
 * radarlib (> 1 means radarlib is faster). For compressed messages `decodeBufr` leaves the values
 * in columns (like ecCodes' numericValues); "with items" also builds the per-subset item lists.
 *
 *   node --import tsx bench/bufr-eccodes.ts [iterations=30] [messages=6]
 *
 * Needs ../shared/fixtures/bufr-general/pybufrkit and python3-eccodes (.ci/install-eccodes.sh).
 * Prints a table and writes bench/results/bufr-eccodes.json. Run under the machine-wide lock:
 * `flock /tmp/radarlib-bench.lock node --import tsx bench/bufr-eccodes.ts`.
 */

import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { decodeBufr } from '../src/bufr/decoder.js';
import { splitBufrMessages } from '../src/bufr/file.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..');
const corpusDir = path.resolve(repoRoot, '..', 'shared', 'fixtures', 'bufr-general', 'pybufrkit');

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
 * A persistent ecCodes timer: the messages come first (one JSON line), then one line per request
 * "<message index> <n>"; it answers the median of n decodes in ms. Persistent, so the radarlib
 * and ecCodes timings of each round are interleaved and share the machine's noise.
 */
const TIMER = `
import sys, json, time, eccodes as ec
specs = json.loads(sys.stdin.readline())
datas = [open(s['file'], 'rb').read()[s['offset']:s['offset'] + s['length']] for s in specs]
for line in sys.stdin:
    i, n = (int(x) for x in line.split())
    times = []
    for _ in range(n):
        t = time.perf_counter()
        h = ec.codes_new_from_message(datas[i])
        ec.codes_set(h, 'unpack', 1)
        ec.codes_get_array(h, 'numericValues')
        ec.codes_release(h)
        times.append(time.perf_counter() - t)
    times.sort()
    print(times[len(times) // 2] * 1000, flush=True)
`;

interface Candidate {
  file: string;
  name: string;
  offset: number;
  length: number;
  bytes: Uint8Array;
  values: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
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

async function main(): Promise<void> {
  const iterations = Number(process.argv[2] ?? 30);
  const count = Number(process.argv[3] ?? 6);
  // The largest messages ecCodes also decodes (it lacks NCEP's prepbufr tables).
  const all = candidates();
  const picked: Candidate[] = [];
  for (const c of all) {
    if (picked.length >= count) break;
    try {
      execFileSync('/usr/bin/python3', ['-c', PROBE], {
        input: JSON.stringify({ file: c.file, offset: c.offset, length: c.length }),
        stdio: ['pipe', 'pipe', 'ignore'],
      });
      picked.push(c);
    } catch {
      // ecCodes cannot decode it: skip.
    }
  }
  const timer = spawn('/usr/bin/python3', ['-c', TIMER], { stdio: ['pipe', 'pipe', 'ignore'] });
  const replies = createInterface({ input: timer.stdout })[Symbol.asyncIterator]();
  timer.stdin.write(
    `${JSON.stringify(picked.map((c) => ({ file: c.file, offset: c.offset, length: c.length })))}\n`,
  );
  const eccodesMedian = async (i: number, n: number): Promise<number> => {
    timer.stdin.write(`${i} ${n}\n`);
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
    for (let w = 0; w < 3; w++) void decodeBufr(c.bytes).subsets.length;
    await eccodesMedian(i, 3);
    const t: number[] = [];
    const ti: number[] = [];
    const te: number[] = [];
    // Rounds alternate radarlib and ecCodes on the same message; the result is the median round.
    for (let round = 0; round < ROUNDS; round++) {
      const rt: number[] = [];
      const rti: number[] = [];
      for (let k = 0; k < perRound; k++) {
        const t0 = performance.now();
        decodeBufr(c.bytes);
        const t1 = performance.now();
        void decodeBufr(c.bytes).subsets.length;
        rti.push(performance.now() - t1);
        rt.push(t1 - t0);
      }
      t.push(median(rt));
      ti.push(median(rti));
      te.push(await eccodesMedian(i, perRound));
    }
    ours.push(median(t));
    oursItems.push(median(ti));
    theirs.push(median(te));
  }
  timer.stdin.end();
  const rows = picked.map((c, i) => ({
    message: c.name,
    bytes: c.length,
    values: c.values,
    compressed: decodeBufr(c.bytes).columns !== null,
    radarlibMs: +(ours[i] as number).toFixed(3),
    withItemsMs: +(oursItems[i] as number).toFixed(3),
    eccodesMs: +(theirs[i] as number).toFixed(3),
    ratio: +((theirs[i] as number) / (ours[i] as number)).toFixed(2),
    ratioWithItems: +((theirs[i] as number) / (oursItems[i] as number)).toFixed(2),
  }));
  const totalOurs = ours.reduce((a, b) => a + b, 0);
  const totalTheirs = theirs.reduce((a, b) => a + b, 0);
  console.table(rows);
  console.log(
    `total: radarlib ${totalOurs.toFixed(2)} ms, ecCodes ${totalTheirs.toFixed(2)} ms, ecCodes / radarlib ${(totalTheirs / totalOurs).toFixed(2)}`,
  );
  mkdirSync(path.join(here, 'results'), { recursive: true });
  writeFileSync(
    path.join(here, 'results', 'bufr-eccodes.json'),
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        cpu: os.cpus()[0]?.model,
        iterations,
        rows,
        total: {
          radarlibMs: +totalOurs.toFixed(3),
          eccodesMs: +totalTheirs.toFixed(3),
          ratio: +(totalTheirs / totalOurs).toFixed(2),
        },
      },
      null,
      2,
    )}\n`,
  );
}

await main();
