/**
 * Where an `'auto'` mirror's time goes on the emulated WAN, the bench's way (bench/mirror.ts,
 * `--listing list`): `connect()`, `listFiles` of the radar date tree, then `downloadFiles` with
 * `maxConcurrent: 'auto'`, from proftpd in the WAN namespace. Evidence for docs/PERFORMANCE.md;
 * not part of `npm run bench`.
 *
 *   flock /tmp/radarlib-bench.lock node --import tsx bench/auto-timeline.ts [--volumes 40] [--runs 1] [--every 100]
 *
 * Prints per run (ms from the client's creation): every command of the first login, each folder
 * level (first listing started, last ended), `listFiles` returned, the first data byte of the
 * batch, then one line per `--every` ms: bytes the host's side of the link received, connections
 * open / busy, files done; then the tail (the last files, alone on the link). Bytes are the link
 * device's own counter (`/sys/class/net/<dev>/statistics/rx_bytes`: payload and headers), so the
 * sampling costs the client nothing but a timer. Needs root (network namespace).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FTPContext } from 'basic-ftp';
import { AsyncFTPClient } from '../src/ftp/client.js';
import { makeRadarDataset } from '../test/helpers/dataset.js';
import { timeListingLevels } from './lib/listing-levels.js';
import { withWanProftpd } from './lib/wan-proftpd.js';

const { values } = parseArgs({
  options: {
    volumes: { type: 'string', default: '40' },
    runs: { type: 'string', default: '1' },
    every: { type: 'string', default: '100' },
    device: { type: 'string', default: process.env.H_IF ?? 'rlw-h' },
  },
});
const PORT = 2124;
const EVERY = Number(values.every);
const RX = `/sys/class/net/${values.device}/statistics/rx_bytes`;
const rx = (): number => Number(readFileSync(RX, 'utf8'));
const send = FTPContext.prototype.send;

await withWanProftpd(
  PORT,
  (dir) => makeRadarDataset(dir, { volumes: Number(values.volumes), layout: 'tree' }),
  async (srv, files, work) => {
    const sizes = new Map(files.map((f) => [`/${f.relPath}`, f.size]));
    const total = files.reduce((n, f) => n + f.size, 0);
    for (let run = 0; run < Number(values.runs); run++) {
      const t0 = performance.now();
      const at = (): number => performance.now() - t0;
      const rx0 = rx();
      const samples: { t: number; rx: number; open: number; busy: number; done: number }[] = [];
      const commands: [number, string][] = [];
      const doneAt: { t: number; path: string; size: number }[] = [];
      FTPContext.prototype.send = function (this: FTPContext, command: string) {
        if (commands.length < 12) commands.push([at(), command.split(' ')[0] ?? '']);
        send.call(this, command);
      };
      const listings = timeListingLevels(at);
      const client = new AsyncFTPClient({
        host: srv.host,
        port: srv.port,
        username: srv.user,
        password: srv.password,
        maxConnections: 16,
      });
      const timer = setInterval(() => {
        const s = client.poolStats;
        samples.push({ t: at(), rx: rx() - rx0, open: s.open, busy: s.busy, done: doneAt.length });
      }, 5);
      await client.connect();
      const loggedIn = at();
      const paths = await client.listFiles('/L2', { recursive: true, pattern: '*.BUFR' });
      const listed = at();
      const rxListed = rx() - rx0;
      const batchDone = client.downloadFiles(paths, join(work, `out${run}`), {
        maxConcurrent: 'auto',
        onFileDone: (r) => doneAt.push({ t: at(), path: r.remotePath, size: sizes.get(r.remotePath) ?? 0 }),
      });
      const warm = client.connect({ connections: 8 }).catch(() => undefined);
      const batch = await batchDone;
      const end = at();
      await warm;
      clearInterval(timer);
      FTPContext.prototype.send = send;
      listings.restore();
      if (batch.failures.length > 0) throw new Error(`${batch.failures.length} failures`);
      // the batch's first byte: the first sample after the listing with 2 KB more than it brought
      const first = samples.find((s) => s.t >= listed && s.rx > rxListed + 2000)?.t ?? NaN;
      console.log(`run ${run + 1}: ${paths.length} files, ${(total / 1e6).toFixed(1)} MB`);
      console.log(
        `  first login: ${commands.map(([t, c]) => `${c}@${t.toFixed(0)}`).join(' ')}; done ${loggedIn.toFixed(0)}`,
      );
      console.log(`  levels: ${listings.describe()}`);
      console.log(
        `  listFiles returned ${listed.toFixed(0)}; first batch byte ~${first.toFixed(0)}; end ${end.toFixed(0)}; ` +
          `link limit from first byte ${(first + (total * 8) / 96.5e3).toFixed(0)} (nominal payload 96.5 Mbit/s)`,
      );
      console.log(`  concurrency steps: ${JSON.stringify(batch.concurrency)}`);
      console.log('  t(ms) | KB in the slot | Mbit/s | open | busy | files done');
      for (let t = 0; t < end + EVERY; t += EVERY) {
        const inSlot = samples.filter((s) => s.t >= t && s.t < t + EVERY);
        const last = inSlot.at(-1);
        if (last === undefined) continue;
        const before = [...samples].reverse().find((s) => s.t < t)?.rx ?? 0;
        const kb = (last.rx - before) / 1000;
        console.log(
          `  ${t} | ${kb.toFixed(0)} | ${((kb * 8) / EVERY).toFixed(1)} | ${last.open} | ${last.busy} | ${last.done}`,
        );
      }
      // the tail: files ending after the batch last had 16 transfers running
      const lastFull = [...samples].reverse().find((s) => s.busy >= 16)?.t ?? NaN;
      const tail = doneAt.filter((d) => d.t > lastFull);
      console.log(
        `  tail: last sample with 16 busy at ${lastFull.toFixed(0)}; ${tail.length} files end after it: ` +
          tail.map((d) => `${(d.size / 1000).toFixed(0)}KB@${d.t.toFixed(0)}`).join(' '),
      );
      await client.disconnect();
    }
  },
);
