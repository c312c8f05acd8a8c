/**
 * Disk full: the local folder is a 1 MiB tmpfs this test mounts. A download that does not fit
 * must fail with a clear error naming ENOSPC, leave no file under its final name, and succeed
 * (resuming the kept `.part`) once the file system has room again.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsyncFTPClient } from '../../src/ftp/client.js';
import { FTPDaemon } from '../../src/daemon/daemon.js';
import { LocalIoError } from '../../src/errors.js';
import { startEmbeddedFtp, type EmbeddedFtpServer } from '../helpers/embedded-ftp.js';
import { sha256File } from '../helpers/hash.js';
import { checkMirror, count, memorySampler, recordRow, walkFiles } from './helpers.js';
import { loginTo } from '../helpers/ftp-login.js';

/** A download into a full disk that neither fails nor ends is abandoned after this. */
const GIVE_UP_MS = count(6000, 20_000);

interface DiskRig {
  root: string;
  mnt: string;
  base: string;
  server: EmbeddedFtpServer;
  sums: Map<string, string>;
  grow(): void;
}

const SIZES: Record<string, number> = { 'a.BUFR': 300_000, 'big.BUFR': 3_000_000, 'c.BUFR': 300_000 };

/** Mounts a 1 MiB tmpfs; null (with the reason) when this machine does not let us. */
async function diskRig(t: TestContext): Promise<DiskRig | string> {
  const base = mkdtempSync(join(tmpdir(), 'radarlib-rel-disk-'));
  const root = join(base, 'srv');
  const mnt = join(base, 'mnt');
  mkdirSync(root);
  mkdirSync(mnt);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'radarlib-diskfull', mnt], {
      stdio: 'pipe',
    });
  } catch (err) {
    rmSync(base, { recursive: true, force: true });
    return `cannot mount a tmpfs here: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
  }
  const sums = new Map<string, string>();
  let i = 0;
  for (const [name, size] of Object.entries(SIZES)) {
    const bytes = Buffer.alloc(size);
    for (let k = 0; k < size; k += 4) bytes.writeUInt32LE((k * 2654435761 + ++i) >>> 0, k);
    writeFileSync(join(root, name), bytes);
    sums.set(name, sha256File(join(root, name)));
  }
  const server = await startEmbeddedFtp({ root });
  t.after(async () => {
    await server.stop();
    try {
      execFileSync('umount', [mnt], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
    }
    rmSync(base, { recursive: true, force: true });
  });
  return {
    root,
    mnt,
    base,
    server,
    sums,
    grow: () => execFileSync('mount', ['-o', 'remount,size=16m', mnt], { stdio: 'pipe' }),
  };
}

test(
  'disk full (client): no partial final file, recovery once space frees',
  { timeout: 120_000 },
  async (t) => {
    const r = await diskRig(t);
    if (typeof r === 'string') return t.skip(r);
    const mem = memorySampler();
    const client = new AsyncFTPClient(loginTo(r.server));
    t.after(() => client.destroy());
    const started = Date.now();
    const first = await client.downloadFiles(['/a.BUFR', '/big.BUFR', '/c.BUFR'], r.mnt, {
      maxConcurrent: 1,
      signal: AbortSignal.timeout(GIVE_UP_MS),
    });
    const firstMs = Date.now() - started;
    const finals = walkFiles(r.mnt).filter((f) => !f.endsWith('.part'));
    // No final name holds anything but a complete file.
    for (const f of finals) assert.equal(sha256File(join(r.mnt, f)), r.sums.get(f), `${f} complete`);
    assert.ok(
      first.failures.some((f) => f.remotePath === '/big.BUFR'),
      'the big file failed',
    );
    assert.ok(!finals.includes('big.BUFR'));
    const hung = first.failures.some((f) => (f.error as { code?: string }).code === 'RADARLIB_ABORTED');

    client.destroy();
    r.grow();
    const client2 = new AsyncFTPClient(loginTo(r.server));
    t.after(() => client2.destroy());
    const retry = await client2.downloadFiles(
      first.failures.map((f) => f.remotePath),
      r.mnt,
      { maxConcurrent: 1 },
    );
    const check = checkMirror(r.mnt, r.sums);
    recordRow({
      id: 'disk-full-client',
      scenario: 'Disk full (client)',
      injected: 'local folder on a 1 MiB tmpfs; files of 300 KB, 3 MB, 300 KB; then remount at 16 MiB',
      cases: 3,
      lost: check.lost.length,
      duplicated: 0,
      corrupt: check.corrupt.length,
      maxRssMb: mem.stop(),
      longestHangMs: firstMs,
      observed: `first pass: ${first.length} ok, ${first.failures.length} failed (${first.failures.map((f) => `${f.remotePath}: ${(f.error as { code?: string }).code}${/ENOSPC/.test(f.error.message) ? ' ENOSPC' : ''}`).join('; ')})${hung ? `: HUNG until the test aborted it after ${GIVE_UP_MS} ms` : ''}; after the remount: ${retry.length} ok, ${retry.failures.length} failed; final-name partials 0`,
    });
    assert.equal(retry.failures.length, 0, retry.failures.map((f) => f.error.message).join('\n'));
    assert.deepEqual(check, { lost: [], corrupt: [], duplicated: [], stray: [] });
  },
);

test(
  'disk full (client): the download fails at once with a LocalIoError, syscallCode ENOSPC',
  {
    timeout: 60_000,
  },
  async (t) => {
    const r = await diskRig(t);
    if (typeof r === 'string') return t.skip(r);
    const client = new AsyncFTPClient(loginTo(r.server));
    t.after(() => client.destroy());
    await assert.rejects(
      client.downloadFile('/big.BUFR', r.mnt, { signal: AbortSignal.timeout(GIVE_UP_MS) }),
      (err: unknown) =>
        err instanceof LocalIoError && err.syscallCode === 'ENOSPC' && err.localPath.startsWith(r.mnt),
    );
  },
);

test(
  'disk full (daemon): no partial final file; every file complete after space frees',
  { timeout: 120_000 },
  async (t) => {
    const r = await diskRig(t);
    if (typeof r === 'string') return t.skip(r);
    const mem = memorySampler();
    const ledgerDir = join(r.base, 'ledger');
    mkdirSync(ledgerDir);
    const errors: string[] = [];
    const callbacks = new Map<string, number>();
    const config = {
      ...loginTo(r.server),
      remotePath: '/',
      localDir: r.mnt,
      // The ledger lives elsewhere: this is about the download folder filling up.
      ledger: join(ledgerDir, 'ledger.sqlite'),
      minAge: 0,
      maxConcurrentDownloads: 1,
      maxAttempts: 20,
      backoff: { initialDelay: 0.3, maxDelay: 0.3, jitter: 0 },
      stopTimeout: 1,
      timeouts: { connect: 5, command: 5, dataStall: 2 },
    };
    const onFileDownloaded = (_p: string, info: { remotePath: string }): void =>
      void callbacks.set(info.remotePath, (callbacks.get(info.remotePath) ?? 0) + 1);
    const full = new FTPDaemon(config, { onFileDownloaded });
    t.after(() => full.stop());
    full.on('retry', (e) => errors.push(e.error.message));
    // While the disk is full: a few cycles, abandoned (stop) when one does not end.
    const giveUp = AbortSignal.timeout(GIVE_UP_MS);
    let longest = 0;
    for (let i = 0; i < 3 && !giveUp.aborted; i++) {
      const s = Date.now();
      await full.runOnce({ signal: giveUp }).catch(() => undefined);
      await new Promise((res) => setTimeout(res, 350));
      longest = Math.max(longest, Date.now() - s);
    }
    const hung = giveUp.aborted;
    await full.stop();
    const finalsWhileFull = walkFiles(r.mnt).filter((f) => !f.endsWith('.part'));
    for (const f of finalsWhileFull) assert.equal(sha256File(join(r.mnt, f)), r.sums.get(f), `${f} complete`);
    assert.ok(
      errors.every((m) => /ENOSPC/.test(m)),
      errors.join('\n'),
    );
    r.grow();
    const d = new FTPDaemon(config, { onFileDownloaded });
    t.after(() => d.stop());
    await d.runOnce();
    for (let i = 0; i < 30 && (await d.ledger!.counts()).processed < 3; i++) {
      await new Promise((res) => setTimeout(res, 100));
      await d.runOnce();
    }
    const counts = await d.ledger!.counts();
    const check = checkMirror(r.mnt, r.sums, { completions: callbacks });
    recordRow({
      id: 'disk-full-daemon',
      scenario: 'Disk full (daemon)',
      injected:
        'localDir on a 1 MiB tmpfs (ledger elsewhere), 3 files (3.6 MB); remount at 16 MiB after 3 cycles',
      cases: 3,
      lost: check.lost.length,
      duplicated: check.duplicated.length,
      corrupt: check.corrupt.length,
      maxRssMb: mem.stop(),
      longestHangMs: longest,
      observed: `${errors.length === 0 ? 'no error recorded while full' : `${errors.length} retries while full, each naming ENOSPC`}${errors[0] === undefined ? '' : ` (${errors[0].slice(0, 90)}...)`}${hung ? `; a cycle HUNG until stopped after ${GIVE_UP_MS} ms` : ''}; after the remount (daemon restarted): processed ${counts.processed}, failed ${counts.failed}`,
    });
    assert.equal(counts.processed, 3);
    assert.deepEqual(check, { lost: [], corrupt: [], duplicated: [], stray: [] });
  },
);
