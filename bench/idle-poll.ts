/**
 * The daemon's idle cycle, run as its own process by bench/run.ts.
 *
 *   node bench/idle-poll.js '{"host":..., "port":..., "user":..., "password":..., "dir":"/tmp/x",
 *                             "historyFile":"/tmp/x/history.json"}'
 *
 * historyFile: JSON array of `{remotePath, size, mtime}`, every file on the server.
 *
 * 1. Seeds a SQLite ledger with the whole history as already processed (the state of a daemon
 *    that has been running for weeks), through `observe` and one bulk UPDATE, as bench/ledger.ts.
 * 2. Cycle 1 (`runOnce`): the first walk of a started daemon (lists its lookback window).
 * 3. Prints `READY` and waits for a line on stdin (bench/run.ts resets the server's command
 *    counter then), and runs cycle 2: the idle cycle that is measured. Prints one JSON line.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { CycleEvent } from '../src/daemon/index.js';
import { benchDaemon } from './lib/daemon.js';
import type { ListedFile } from '../src/ledger/ledger.js';
import { SqliteLedger } from '../src/ledger/sqlite.js';

export interface IdlePollRequest {
  host: string;
  port: number;
  user: string;
  password: string;
  dir: string;
  historyFile: string;
}

export interface IdlePollResult {
  warm: { wallMs: number; listings: number; added: number; downloaded: number };
  idle: { wallMs: number; cpuMs: number; listings: number; added: number; downloaded: number };
}

async function seed(path: string, history: ListedFile[]): Promise<void> {
  const ledger = SqliteLedger.open(path);
  const now = Date.now();
  for (let i = 0; i < history.length; i += 1000) {
    await ledger.observe('bench', history.slice(i, i + 1000), { now, minAgeMs: 0 });
  }
  await ledger.close();
  const db = new Database(path);
  db.exec(`UPDATE files SET state = 'processed', attempts = 1, local_path = '/data/' || remote_path,
                  downloaded_at = updated_at, processed_at = updated_at`);
  db.close();
}

export async function idlePoll(req: IdlePollRequest, between: () => Promise<void>): Promise<IdlePollResult> {
  const ledgerPath = join(req.dir, 'ledger.sqlite');
  await seed(ledgerPath, JSON.parse(readFileSync(req.historyFile, 'utf8')) as ListedFile[]);
  const daemon = benchDaemon({
    ...req,
    remotePath: '/L2',
    localDir: join(req.dir, 'incoming'),
    ledger: ledgerPath,
  });
  const cycles: CycleEvent[] = [];
  daemon.on('cycle', (e) => cycles.push(e));
  try {
    let t = performance.now();
    const first = await daemon.runOnce();
    const warmMs = performance.now() - t;
    await between();
    const cpu = process.cpuUsage();
    t = performance.now();
    const second = await daemon.runOnce();
    const idleMs = performance.now() - t;
    const cpuUsed = process.cpuUsage(cpu);
    const [c1, c2] = cycles;
    if (c1 === undefined || c2 === undefined) throw new Error('expected two cycle events');
    return {
      warm: { wallMs: warmMs, listings: c1.listings, added: c1.added, downloaded: first.length },
      idle: {
        wallMs: idleMs,
        cpuMs: (cpuUsed.user + cpuUsed.system) / 1000,
        listings: c2.listings,
        added: c2.added,
        downloaded: second.length,
      },
    };
  } finally {
    await daemon.stop();
  }
}

const arg = process.argv[2];
if (arg !== undefined && process.argv[1]?.replace(/\.[jt]s$/, '').endsWith('idle-poll')) {
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const result = await idlePoll(JSON.parse(arg) as IdlePollRequest, async () => {
    process.stdout.write('READY\n');
    await lines.next();
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
