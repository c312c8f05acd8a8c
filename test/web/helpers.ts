/** A daemon stand-in (typed events + config + a real SQLite ledger) for status-server tests. */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { resolveDaemonConfig, type DaemonConfig, type FTPDaemonConfig } from '../../src/daemon/config.js';
import type { CycleEvent, DaemonEvents } from '../../src/daemon/daemon.js';
import type { FileRecord, Ledger } from '../../src/ledger/ledger.js';
import { SqliteLedger } from '../../src/ledger/sqlite.js';

/** Passwords the page, the JSON and the metrics must never contain. */
export const SOURCE_PASSWORD = 'Sup3r-Secret-Ftp-Pa55';
export const LEDGER_PASSWORD = 'Ledger-Pa55-Word';

export class FakeDaemon extends EventEmitter<DaemonEvents> {
  constructor(
    readonly config: DaemonConfig,
    public ledger: Ledger | null,
  ) {
    super();
  }

  cycle(source: string, extra: Partial<CycleEvent> = {}): void {
    this.emit('cycle', {
      source,
      cycle: 1,
      durationMs: 12,
      listed: 3,
      listings: 1,
      added: 1,
      becameReady: 0,
      downloaded: 0,
      failed: 0,
      skippedListing: false,
      error: null,
      folderErrors: [],
      ...extra,
    });
  }
}

export interface WebRig {
  dir: string;
  daemon: FakeDaemon;
  ledger: SqliteLedger;
}

/** Two sources (`alpha`, `beta`) with known passwords, a temp folder and an SQLite ledger. */
export function webRig(t: TestContext, extra: Partial<FTPDaemonConfig> = {}): WebRig {
  const dir = mkdtempSync(join(tmpdir(), 'radarlib-web-'));
  const ledger = SqliteLedger.open(join(dir, 'ledger.sqlite'));
  t.after(async () => {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const config = resolveDaemonConfig({
    localDir: join(dir, 'data'),
    username: 'radar-user',
    password: SOURCE_PASSWORD,
    pollInterval: 10,
    ledger: `postgres://radarlib:${LEDGER_PASSWORD}@db.invalid/radarlib`,
    sources: [
      { name: 'alpha', host: '127.0.0.1', port: 2121, remotePath: '/L2', layout: 'radar-tree' },
      { name: 'beta', host: '127.0.0.2', remotePath: '/other' },
    ],
    ...extra,
  });
  return { dir, daemon: new FakeDaemon(config, ledger), ledger };
}

/** Puts one row of `source` through observe -> claim -> fail (parked) or complete. */
export async function addRow(
  ledger: Ledger,
  source: string,
  remotePath: string,
  outcome: { fail: string } | { localPath: string },
  now = Date.now(),
): Promise<FileRecord> {
  await ledger.observe(source, [{ remotePath, size: 1234, mtime: now - 1000 }], { now, minAgeMs: 0 });
  const [claim] = await ledger.claimReady(source, 10, { now, leaseMs: 60_000, owner: 'test' });
  if (claim === undefined) throw new Error(`no ready row for ${remotePath}`);
  if ('fail' in outcome) {
    await ledger.fail(claim, outcome.fail, { now, retryAt: null });
    return (await ledger.get(claim.record.id)) as FileRecord;
  }
  return ledger.complete(claim, outcome.localPath, { now });
}

/** GET/POST helper returning status, headers and text. */
export async function http(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; headers: Headers; text: string; bytes: Buffer }> {
  const res = await fetch(url, init);
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, text: bytes.toString('utf8'), bytes };
}
