/**
 * What the emulated WAN link carries: plain TCP over bench/wan/wan.sh's link, 1/5/16/32 streams
 * (bench/lib/link-capacity.ts, the probes bench/run.ts runs before its mirrors), and the idle RTT.
 *
 *   flock /tmp/radarlib-bench.lock node --import tsx bench/wan/capacity.ts [--runs 3] [--down]
 *   NS=rlw-dev H_IF=rld-h N_IF=rld-n H_IP=10.209.0.1 N_IP=10.209.0.2 \
 *     node --import tsx bench/wan/capacity.ts        # a private link beside the standard one
 *
 * Raises the link with wan.sh (the same environment: NS, H_IF, N_IF, H_IP, N_IP, DELAY, RATE,
 * QUEUE_MS, BACKEND, FORWARDER), prints one line per probe with its rate as a fraction of the
 * nominal payload rate (100 Mbit/s × 1448/1500: TCP with timestamps in 1500-byte packets), the
 * ping RTT and the load average, and with `--json FILE` writes them. `--down` removes the link at
 * the end (the standard one is left up otherwise, as wan.sh's `up` is idempotent). `--long MB` adds
 * one stream of MB megabytes, long enough for slow start to weigh little in its first-to-last rate.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CAPACITY_PROBES,
  LINK_PAYLOAD_BYTES_PER_S,
  measureLinkCapacity,
  type LinkCapacity,
} from '../lib/link-capacity.js';
import { REPO } from '../lib/setup.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1' },
    port: { type: 'string', default: '2199' },
    json: { type: 'string' },
    down: { type: 'boolean', default: false },
    long: { type: 'string', default: '0' },
  },
});
const ns = process.env.NS ?? 'radarlib-wan';
const host = process.env.N_IP ?? '10.201.0.2';
const wanSh = join(REPO, 'bench', 'wan', 'wan.sh');

function sh(args: string[]): string {
  const r = spawnSync(args[0] ?? 'true', args.slice(1), { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return `${r.stdout}${r.stderr}`.trim();
}

const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const mbit = (bytesPerS: number): string => ((bytesPerS * 8) / 1e6).toFixed(1);
const pct = (bytesPerS: number): string => `${((100 * bytesPerS) / LINK_PAYLOAD_BYTES_PER_S).toFixed(1)} %`;

/** min/avg/max/mdev in ms from 20 pings 50 ms apart. */
function pingRtt(): string {
  const out = sh(['ping', '-n', '-q', '-c', '20', '-i', '0.05', '-W', '2', host]);
  return /= ([\d./]+) ms/.exec(out)?.[1] ?? out;
}

console.log(sh(['bash', wanSh, 'up']));
const results: { run: number; load: string; ping: string; probes: LinkCapacity[] }[] = [];
try {
  for (let run = 1; run <= Number(values.runs); run++) {
    const load = loadavg();
    const ping = pingRtt();
    console.log(`run ${String(run)}: load ${load}, idle ping min/avg/max/mdev ${ping} ms`);
    const probes: LinkCapacity[] = [];
    const long = Number(values.long) * 1e6;
    for (const p of long > 0 ? [...CAPACITY_PROBES, { streams: 1, bytesPerStream: long }] : CAPACITY_PROBES) {
      const c = await measureLinkCapacity(p.streams, p.bytesPerStream, Number(values.port), { ns, host });
      probes.push(c);
      console.log(
        `  ${String(c.streams).padStart(2)} stream(s): ${mbit(c.bytesPerS)} Mbit/s (${pct(c.bytesPerS)}), ` +
          `first to last byte ${mbit(c.steadyBytesPerS)} (${pct(c.steadyBytesPerS)}), ` +
          `middle 80 % ${mbit(c.bulkBytesPerS)} (${pct(c.bulkBytesPerS)}), ${c.wallS.toFixed(2)} s`,
      );
    }
    results.push({ run, load: `${load} → ${loadavg()}`, ping, probes });
  }
  console.log(sh(['bash', wanSh, 'status']));
} finally {
  if (values.down) console.log(sh(['bash', wanSh, 'down']));
}
if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(results, null, 2));
