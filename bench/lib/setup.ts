/**
 * What the benchmark scripts (run.ts, sftp.ts, latency.ts) set up alike: where the repository and
 * the results are, the emulated WAN link (bench/wan/wan.sh: 50 ms RTT, 100 Mbit/s, in network
 * namespace `WAN_NS`), whether a peer tool is installed, and what a mirror brought.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const RESULTS = join(REPO, 'bench', 'results');
const WAN_SH = join(REPO, 'bench', 'wan', 'wan.sh');
/** The namespace bench/wan/wan.sh creates (a fixed name: run under /tmp/radarlib-bench.lock). */
export const WAN_NS = 'radarlib-wan';
/** The namespace's side of the link, where servers under test listen. */
export const WAN_HOST = '10.201.0.2';

/** Raises or removes the emulated WAN link; `out` is the script's output, for the report. */
export function wan(action: 'up' | 'down'): { ok: boolean; out: string } {
  const r = spawnSync('bash', [WAN_SH, action], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NS: WAN_NS },
  });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim() };
}

/** Whether `cmd` is on PATH (a missing peer is reported, never faked). */
export function has(cmd: string): boolean {
  return spawnSync('bash', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** The `.BUFR` files under `dir` and their bytes (0 when it does not exist): what a mirror brought. */
export function countBufr(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const walk = (d: string, depth: number): void => {
    if (depth > 16 || !existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.name.endsWith('.BUFR')) {
        files++;
        bytes += statSync(p).size;
      }
    }
  };
  walk(dir, 0);
  return { files, bytes };
}
