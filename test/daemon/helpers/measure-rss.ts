/**
 * Resident memory of a running daemon whose ledger holds ROWS rows (not a test). The ledger is
 * seeded with ROWS processed rows, then the daemon polls an embedded server's date tree for 100
 * cycles; RSS is sampled every 10 cycles after a GC. Prints one JSON line.
 *
 *   node --import tsx --expose-gc test/daemon/helpers/measure-rss.ts 1000000
 */
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { FTPDaemon } from '../../../src/daemon/index.js';
import type { ListedFile } from '../../../src/ledger/ledger.js';
import { SqliteLedger } from '../../../src/ledger/sqlite.js';
import { startEmbeddedFtp } from '../../helpers/embedded-ftp.js';
import { treeFiles, writeTree } from './radar-tree.js';

const rows = Number(process.argv[2] ?? '1000000');
const mb = (n: number): number => Math.round(n / 1048576);
const base = mkdtempSync(join(tmpdir(), 'radarlib-rss-'));
const root = join(base, 'srv');
const end = new Date(Math.floor(Date.now() / 600_000) * 600_000);
const files = treeFiles({
  root: '/L2',
  radars: ['RMA1'],
  end,
  historyMs: 2 * 86_400_000,
  stepMinutes: 10,
  fields: ['DBZH', 'ZDR', 'RHOHV', 'VRAD'],
});
writeTree(root, files, 1024);
const mtime = new Date(Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000);
for (const f of files) utimesSync(join(root, f), mtime, mtime);

const ledgerPath = join(base, 'ledger.sqlite');
const started = Date.now();
{
  const ledger = SqliteLedger.open(ledgerPath);
  const now = Date.now();
  const tree = files.map((f) => ({ remotePath: f, size: 1024, mtime: mtime.getTime() }));
  await ledger.observe('bench', tree, { now, minAgeMs: 0 });
  for (let i = files.length; i < rows; i += 10_000) {
    const chunk: ListedFile[] = [];
    for (let k = i; k < Math.min(rows, i + 10_000); k++) {
      chunk.push({
        remotePath: `/L2/OLD${k % 50}/history/f${k}.BUFR`,
        size: 1000 + (k % 997),
        mtime: now - 1e10 + k,
      });
    }
    await ledger.observe('bench', chunk, { now, minAgeMs: 0 });
  }
  await ledger.close();
  const db = new Database(ledgerPath);
  db.exec(`UPDATE files SET state = 'processed', attempts = 1, local_path = '/data' || remote_path,
                  downloaded_at = updated_at, processed_at = updated_at`);
  db.close();
}
const seedS = (Date.now() - started) / 1000;
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const server = await startEmbeddedFtp({ root });
const daemon = new FTPDaemon(
  {
    name: 'bench',
    host: server.host,
    port: server.port,
    username: server.user,
    password: server.password,
    remotePath: '/L2',
    layout: 'radar-tree',
    localDir: join(base, 'incoming'),
    ledger: ledgerPath,
    minAge: 0,
    pollInterval: 0.01,
    logLevel: 'silent',
  },
  { onFileDownloaded: () => undefined },
);
const samples: number[] = [];
let cycles = 0;
daemon.on('cycle', () => {
  if (++cycles % 10 === 0) {
    gc?.();
    samples.push(process.memoryUsage().rss);
  }
});
try {
  await daemon.run({ maxIterations: 100 });
} finally {
  await server.stop();
  rmSync(base, { recursive: true, force: true });
}
console.log(
  JSON.stringify({
    rows,
    seedS,
    cycles,
    rssMB: samples.map(mb),
    rssMaxMB: mb(Math.max(...samples)),
    heapUsedMB: mb(process.memoryUsage().heapUsed),
    note: 'one process: daemon + embedded ftp-srv server + tsx',
  }),
);
