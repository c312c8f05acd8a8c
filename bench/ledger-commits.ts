/**
 * The ledger's cost per downloaded file, as the daemon pays it on its event loop (issue 15):
 * claim, lease renewal (the fence before the rename), the record of the download, the callback
 * outcome. SQLite is synchronous, so every millisecond here is a millisecond no transfer, listing
 * or callback of the process advances.
 *
 *   node --import tsx bench/ledger-commits.ts [--files 240] [--group 5] [--dir DIR] [--out FILE]
 *
 * Two runs on a fresh file-backed ledger each: `complete` per file (the daemon before group
 * commit) and `completeMany` per group of `--group` files (what files made durable together
 * cost now). Reports the wall time per file of each step and in all. The ledger lives in `--dir`
 * (default: the system temp folder), since what is measured is mostly that disk's fsync.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Claim, FileRecord } from '../src/ledger/ledger.js';
import { SqliteLedger } from '../src/ledger/sqlite.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = 'bench';

export interface CommitCosts {
  mode: 'complete per file' | 'completeMany per group';
  files: number;
  group: number;
  /** Milliseconds per file of each step. */
  claimMs: number;
  renewMs: number;
  completeMs: number;
  processedMs: number;
  totalMs: number;
}

async function measure(dir: string, files: number, group: number): Promise<CommitCosts> {
  const home = mkdtempSync(join(dir, 'radarlib-ledger-commits-'));
  const ledger = SqliteLedger.open(join(home, 'ledger.sqlite'));
  try {
    const now = Date.now();
    await ledger.observe(
      SOURCE,
      Array.from({ length: files }, (_, i) => ({
        remotePath: `/L2/f${i}.BUFR`,
        size: 1000 + i,
        mtime: 1000,
      })),
      { now, minAgeMs: 0 },
    );
    const step = async (fn: () => Promise<void>): Promise<number> => {
      const t0 = process.hrtime.bigint();
      await fn();
      return Number(process.hrtime.bigint() - t0) / 1e6 / files;
    };
    const claims: Claim[] = [];
    const claimMs = await step(async () => {
      // A slot frees, one claim: how the download pool claims in a steady stream.
      for (let i = 0; i < files; i++)
        claims.push(...(await ledger.claimReady(SOURCE, 1, { now, leaseMs: 60_000, owner: 'bench' })));
    });
    const renewMs = await step(async () => {
      for (const c of claims) await ledger.renewLease(c, { now, leaseMs: 60_000 });
    });
    const records: FileRecord[] = [];
    const completeMs = await step(async () => {
      if (group === 1) {
        for (const c of claims) records.push(await ledger.complete(c, `/data/${c.record.id}`, { now }));
        return;
      }
      for (let i = 0; i < claims.length; i += group) {
        const part = claims
          .slice(i, i + group)
          .map((claim) => ({ claim, localPath: `/data/${claim.record.id}` }));
        for (const r of await ledger.completeMany(part, { now })) if (r !== null) records.push(r);
      }
    });
    const processedMs = await step(async () => {
      for (const r of records) await ledger.markProcessed(r.id, null, { now });
    });
    return {
      mode: group === 1 ? 'complete per file' : 'completeMany per group',
      files,
      group,
      claimMs,
      renewMs,
      completeMs,
      processedMs,
      totalMs: claimMs + renewMs + completeMs + processedMs,
    };
  } finally {
    await ledger.close();
    rmSync(home, { recursive: true, force: true });
  }
}

export async function runLedgerCommits(opts: {
  files: number;
  group: number;
  dir: string;
}): Promise<CommitCosts[]> {
  return [await measure(opts.dir, opts.files, 1), await measure(opts.dir, opts.files, opts.group)];
}

export function ledgerCommitsTable(rows: readonly CommitCosts[]): string {
  const f = (x: number): string => x.toFixed(3);
  return `${[
    '| mode | files | claim ms/file | renew ms/file | record download ms/file | callback outcome ms/file | total ms/file |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.mode}${r.group > 1 ? ` of ${r.group}` : ''} | ${r.files} | ${f(r.claimMs)} | ${f(r.renewMs)} | ${f(r.completeMs)} | ${f(r.processedMs)} | ${f(r.totalMs)} |`,
    ),
  ].join('\n')}\n`;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      files: { type: 'string', default: '240' },
      group: { type: 'string', default: '5' },
      dir: { type: 'string', default: tmpdir() },
      out: { type: 'string', default: join(REPO, 'bench', 'results', 'ledger-commits.json') },
    },
  });
  const rows = await runLedgerCommits({
    files: Number(values.files),
    group: Number(values.group),
    dir: values.dir,
  });
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${JSON.stringify({ date: new Date().toISOString(), rows }, null, 2)}\n`);
  process.stdout.write(ledgerCommitsTable(rows));
}
