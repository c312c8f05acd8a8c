/**
 * What the benchmark scripts (run.ts, sftp.ts, latency.ts) set up alike: where the repository and
 * the results are, the emulated WAN link (bench/wan/wan.sh: 50 ms RTT, 100 Mbit/s, in network
 * namespace `WAN_NS`), whether a peer tool is installed, and what a mirror brought.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const RESULTS = join(REPO, 'bench', 'results');
const WAN_SH = join(REPO, 'bench', 'wan', 'wan.sh');
/** The namespace bench/wan/wan.sh creates (a fixed name: run under /tmp/radarlib-bench.lock). */
export const WAN_NS = 'radarlib-wan';
/** The namespace's side of the link, where servers under test listen. */
export const WAN_HOST = '10.201.0.2';

/**
 * The pause before each timed run. ProFTPD's master sleeps up to 2 × 200 ms after it reaps a
 * finished session before it accepts again (docs/PERFORMANCE.md, "proftpd's late greeting"):
 * whichever tool starts right after another would pay that at random in its first logins (a
 * radarlib 5 loopback listing took 60 ms, or 180–250 ms by that alone).
 */
export const RUN_GAP_MS = 1000;

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

/**
 * rclone's remote `bench:` for an FTP server, as environment variables (rclone reads an empty
 * config file in `work`, so nothing of the user's own is used). The password is obscured, as
 * rclone requires; `tls` asks for explicit FTPS with the benchmark's self-signed certificate.
 */
export function rcloneFtpRemote(
  server: { host: string; port: number; user: string; password: string },
  work: string,
  tls = false,
): NodeJS.ProcessEnv {
  // rclone takes only obscured passwords; a slow start on a loaded machine must not leave it empty
  // `--`: a random password may start with '-' (base64url), which rclone took for a flag
  const run = spawnSync('rclone', ['obscure', '--', server.password], { encoding: 'utf8', timeout: 60_000 });
  const obscured = run.stdout.trim();
  if (run.status !== 0 || obscured === '') {
    throw new Error(
      `rclone obscure failed (status ${String(run.status)}): ${run.error?.message ?? run.stderr}`,
    );
  }
  const conf = join(work, 'rclone.conf');
  writeFileSync(conf, '');
  return {
    RCLONE_CONFIG: conf,
    RCLONE_CONFIG_BENCH_TYPE: 'ftp',
    RCLONE_CONFIG_BENCH_HOST: server.host,
    RCLONE_CONFIG_BENCH_PORT: String(server.port),
    RCLONE_CONFIG_BENCH_USER: server.user,
    RCLONE_CONFIG_BENCH_PASS: obscured,
    ...(tls
      ? { RCLONE_CONFIG_BENCH_EXPLICIT_TLS: 'true', RCLONE_CONFIG_BENCH_NO_CHECK_CERTIFICATE: 'true' }
      : {}),
  };
}
