/** A served folder, a local folder and an embedded FTP server, torn down with the test. */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import type { TestContext } from 'node:test';
import YAML from 'yaml';
import { startEmbeddedFtp, type EmbeddedFtpServer } from '../../helpers/embedded-ftp.js';
import type { FTPDaemonConfig } from '../../../src/daemon/config.js';
import { loginTo } from '../../helpers/ftp-login.js';

export interface Rig {
  server: EmbeddedFtpServer;
  /** Served folder (the server's `/`). */
  root: string;
  /** Where downloads go. */
  local: string;
  /** Base config for a source on this server. */
  config(extra?: Partial<FTPDaemonConfig>): FTPDaemonConfig;
  /** Writes a file under the served root (creating folders); optional mtime. */
  put(remotePath: string, content: Buffer | string, mtime?: Date): void;
}

export async function rig(
  t: TestContext,
  options: { maxConnections?: number; stall?: (remotePath: string) => boolean } = {},
): Promise<Rig> {
  const base = mkdtempSync(join(tmpdir(), 'radarlib-daemon-'));
  const root = join(base, 'srv');
  const local = join(base, 'local');
  mkdirSync(root);
  mkdirSync(local);
  const server = await startEmbeddedFtp({
    root,
    ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections }),
    ...(options.stall === undefined ? {} : { stall: options.stall }),
  });
  t.after(async () => {
    await server.stop();
    rmSync(base, { recursive: true, force: true });
  });
  const put = (remotePath: string, content: Buffer | string, mtime?: Date): void => {
    const file = join(root, remotePath);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
    if (mtime !== undefined) utimesSync(file, mtime, mtime);
  };
  return {
    server,
    root,
    local,
    put,
    config: (extra = {}) => ({
      ...loginTo(server),
      remotePath: '/data',
      localDir: local,
      // Files written by the test are "old" at once unless a test wants stability checks, and
      // two equal listings make a file ready (the readiness tests set `settle` themselves).
      minAge: 0,
      settle: 0,
      pollInterval: 0.05,
      backoff: { initialDelay: 0.01, maxDelay: 0.05, jitter: 0 },
      timeouts: { connect: 5, command: 5, dataStall: 5 },
      ...extra,
    }),
  };
}

/**
 * A radar tree under `/L2` that only hot rounds can keep up with: one full round an hour, and
 * files must settle (minAge an hour) unless a test says otherwise.
 */
export const HOT_RADAR_TREE = {
  remotePath: '/L2',
  layout: 'radar-tree',
  localLayout: '{remoteDir}/',
  pollInterval: 3600,
  minAge: 3600,
} as const satisfies Partial<FTPDaemonConfig>;

/** Deterministic bytes for file `i`. */
export function payload(i: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  let x = (i + 1) * 2654435761;
  for (let k = 0; k < size; k++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[k] = x >>> 24;
  }
  return b;
}

/** Every file under `dir` (relative paths), skipping the ledger folder. */
export function listLocal(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== '.radarlib') walk(p);
      } else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

export function size(file: string): number {
  return statSync(file).size;
}

/**
 * Writes `radarlib.yaml` beside the rig's local folder for a daemon child process (the password
 * comes from RADARLIB_PASSWORD) and returns its path.
 */
export function writeYamlConfig(r: Rig, extra: Record<string, unknown> = {}): string {
  const file = join(r.local, '..', 'radarlib.yaml');
  writeFileSync(
    file,
    YAML.stringify({
      host: r.server.host,
      port: r.server.port,
      username: r.server.user,
      remotePath: '/data',
      localDir: r.local,
      minAge: 0,
      pollInterval: 0.05,
      ...extra,
    }),
  );
  return file;
}
