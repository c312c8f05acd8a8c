/**
 * Times AsyncFTPClient.downloadFiles against a real Debian FTP server on loopback.
 *
 *   node --import tsx scripts/time-downloads.ts [--server proftpd] [--files 200] [--runs 3]
 *        [--concurrency 1,5]
 *
 * Starts the server (installed by .ci/install-ftp-servers.sh) on a synthetic radar data set of
 * `--files` files of 0.1–1.7 MB, then downloads all of them `--runs` times per concurrency into a
 * fresh folder each time (connecting and listing excluded from the clock) and prints a table.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AsyncFTPClient } from '../src/ftp/index.js';
import { makeRadarDataset } from '../test/helpers/dataset.js';
import {
  DEBIAN_SERVER_KINDS,
  debianServerAvailable,
  startDebianServer,
  type DebianServerKind,
} from '../test/helpers/debian-servers.js';

const FIELDS = ['DBZH', 'VRAD', 'ZDR', 'KDP', 'RHOHV'];

const { values } = parseArgs({
  options: {
    server: { type: 'string', default: 'proftpd' },
    files: { type: 'string', default: '200' },
    runs: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '1,5' },
  },
});
const kind = values.server as DebianServerKind;
if (!DEBIAN_SERVER_KINDS.includes(kind))
  throw new Error(`--server must be one of ${DEBIAN_SERVER_KINDS.join(', ')}`);
const nFiles = Number(values.files);
const runs = Number(values.runs);
const levels = values.concurrency.split(',').map(Number);
if (!(nFiles >= 1 && runs >= 1 && levels.every((n) => Number.isInteger(n) && n >= 1))) {
  throw new Error('--files, --runs and --concurrency must be positive integers');
}
const reason = debianServerAvailable(kind);
if (reason !== null) {
  console.error(`time-downloads: ${reason}`);
  process.exit(2);
}

const work = await mkdtemp(join(tmpdir(), 'radarlib-time-downloads-'));
try {
  const root = join(work, 'root');
  const volumes = Math.ceil(nFiles / FIELDS.length);
  const files = (
    await makeRadarDataset(root, {
      volumes,
      layout: 'flat',
      fields: FIELDS,
      sizeMin: 100_000,
      sizeMax: 1_700_000,
    })
  ).slice(0, nFiles);
  const bytes = files.reduce((n, f) => n + f.size, 0);
  // one passive port per transfer at least: ports in TIME_WAIT cannot be listened on again
  const server = await startDebianServer(kind, { root, passivePorts: Math.min(1000, nFiles * 2 + 50) });
  try {
    console.log(
      `${kind} on ${server.host}:${server.port}: ${files.length} files, ${(bytes / 1e6).toFixed(1)} MB ` +
        `(${(bytes / files.length / 1e3).toFixed(0)} KB mean), ${runs} run(s) per setting`,
    );
    const rows: { maxConcurrent: number; times: number[] }[] = [];
    for (const maxConcurrent of levels) {
      const times: number[] = [];
      for (let r = 0; r < runs; r++) {
        const client = new AsyncFTPClient({
          host: server.host,
          port: server.port,
          username: server.user,
          password: server.password,
        });
        try {
          const wanted = new Set(files.map((f) => f.relPath));
          const entries = (await client.listEntries('/')).filter((e) => wanted.has(e.name));
          const dir = join(work, `out-${maxConcurrent}-${r}`);
          const t0 = process.hrtime.bigint();
          const result = await client.downloadFiles(entries, dir, { maxConcurrent });
          const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
          if (result.failures.length > 0 || result.length !== files.length) {
            throw new Error(
              `run failed: ${result.length} ok, ${result.failures.length} failed ` +
                `(${result.failures[0]?.error.message ?? ''})`,
            );
          }
          times.push(seconds);
          await rm(dir, { recursive: true, force: true });
        } finally {
          await client.disconnect();
        }
      }
      rows.push({ maxConcurrent, times });
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    console.log('');
    console.log('| maxConcurrent | median s | runs (s)             | MB/s  |');
    console.log('| ------------- | -------- | -------------------- | ----- |');
    for (const { maxConcurrent, times } of rows) {
      const m = median(times);
      console.log(
        `| ${String(maxConcurrent).padEnd(13)} | ${m.toFixed(3).padEnd(8)} | ` +
          `${times
            .map((t) => t.toFixed(3))
            .join(' ')
            .padEnd(20)} | ${(bytes / 1e6 / m).toFixed(0).padEnd(5)} |`,
      );
    }
  } finally {
    await server.stop();
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
