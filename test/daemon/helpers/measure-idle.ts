/**
 * Measures the daemon's idle cycle on a radar date tree with DAYS of history (not a test: timing
 * lives here, not in assertions). Embedded FTP server on loopback, ledger seeded with the whole
 * history as processed (bench/idle-poll.ts), 5 runs; prints one JSON line.
 *
 *   node --import tsx test/daemon/helpers/measure-idle.ts 2
 *   node --import tsx test/daemon/helpers/measure-idle.ts 30
 */
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { idlePoll, type IdlePollResult } from '../../../bench/idle-poll.js';
import { startEmbeddedFtp } from '../../helpers/embedded-ftp.js';
import { treeFiles, writeTree } from './radar-tree.js';

const days = Number(process.argv[2] ?? '2');
const base = mkdtempSync(join(tmpdir(), `radarlib-idle-${days}d-`));
const root = join(base, 'srv');
const end = new Date(Math.floor(Date.now() / 600_000) * 600_000);
const files = treeFiles({
  root: '/L2',
  radars: ['RMA1'],
  end,
  historyMs: days * 86_400_000,
  stepMinutes: 10,
  fields: ['DBZH', 'ZDR', 'RHOHV', 'VRAD'],
});
writeTree(root, files, 1024);
// A whole minute: what a Unix LIST shows is then exactly the file's mtime (no new versions).
const mtime = new Date(Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000);
for (const f of files) utimesSync(join(root, f), mtime, mtime);
const historyFile = join(base, 'history.json');
writeFileSync(
  historyFile,
  JSON.stringify(files.map((f) => ({ remotePath: f, size: 1024, mtime: mtime.getTime() }))),
);
const server = await startEmbeddedFtp({ root });
const runs: IdlePollResult[] = [];
try {
  for (let i = 0; i < 5; i++) {
    const req = { host: server.host, port: server.port, user: server.user, password: server.password };
    runs.push(await idlePoll({ ...req, dir: join(base, `run${i}`), historyFile }, async () => undefined));
  }
} finally {
  await server.stop();
  rmSync(base, { recursive: true, force: true });
}
const wall = runs.map((r) => r.idle.wallMs).sort((a, b) => a - b);
console.log(
  JSON.stringify({
    days,
    files: files.length,
    firstCycle: { listings: runs[0]?.warm.listings, wallMs: Math.round(runs[0]?.warm.wallMs ?? 0) },
    idleListings: runs.map((r) => r.idle.listings),
    idleWallMs: wall.map((x) => Math.round(x)),
    idleCpuMs: runs.map((r) => Math.round(r.idle.cpuMs)),
    medianIdleMs: Math.round(wall[2] ?? NaN),
  }),
);
