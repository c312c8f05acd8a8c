/**
 * Where a recursive listing's time goes on the emulated WAN: `connect()` then `listEntries` of a
 * radar date tree (`/L2/RMA1/YYYY/MM/DD/HH/MMSS`, the bench's layout) from proftpd in the WAN
 * namespace, with each folder's listing timed (ms from the start of the walk). Evidence for
 * docs/PERFORMANCE.md; not part of `npm run bench`.
 *
 *   flock /tmp/radarlib-bench.lock node --import tsx bench/walk-timeline.ts [--volumes 8] [--connections 16] [--runs 3]
 *
 * Prints per run: the login, each folder level (first listing started, last ended), the walk's
 * total, and how many listings found their data connection already open (passive-ready.ts).
 * Needs root (network namespace), like the bench's WAN runs.
 */
import { parseArgs } from 'node:util';
import { Client } from 'basic-ftp';
import { AsyncFTPClient } from '../src/ftp/client.js';
import { makeRadarDataset } from '../test/helpers/dataset.js';
import { withWanProftpd } from './lib/wan-proftpd.js';

const { values } = parseArgs({
  options: {
    volumes: { type: 'string', default: '8' },
    connections: { type: 'string', default: '16' },
    runs: { type: 'string', default: '3' },
  },
});
const PORT = 2123;
// each folder's listing is timed through basic-ftp's own `list` (what radarlib's listDir runs)
const list = Client.prototype.list;

await withWanProftpd(
  PORT,
  (dir) =>
    makeRadarDataset(dir, { volumes: Number(values.volumes), layout: 'tree', sizeMin: 1000, sizeMax: 1000 }),
  async (srv, files) => {
    for (let run = 0; run < Number(values.runs); run++) {
      const client = new AsyncFTPClient({
        host: srv.host,
        port: srv.port,
        username: srv.user,
        password: srv.password,
        maxConnections: Number(values.connections),
      });
      const t0 = performance.now();
      const at = (): number => performance.now() - t0;
      await client.connect();
      const loggedIn = at();
      // each folder's listing, by depth below /L2
      const levels = new Map<number, { first: number; last: number; n: number }>();
      Client.prototype.list = async function (this: Client, path?: string) {
        const start = at();
        const entries = await list.call(this, path);
        const depth = (path ?? '').split('/').filter((p) => p !== '').length;
        const level = levels.get(depth) ?? { first: start, last: 0, n: 0 };
        level.first = Math.min(level.first, start);
        level.last = Math.max(level.last, at());
        level.n++;
        levels.set(depth, level);
        return entries;
      };
      const found = await client.listEntries('/L2', { recursive: true, pattern: '*.BUFR' });
      const total = at();
      if (found.length !== files.length) throw new Error(`listed ${found.length} of ${files.length} files`);
      const line = [...levels.entries()]
        .sort(([a], [b]) => a - b)
        .map(([d, l]) => `L${d}×${l.n} ${l.first.toFixed(0)}–${l.last.toFixed(0)}`)
        .join(', ');
      console.log(
        `run ${run + 1}: login ${loggedIn.toFixed(0)} ms; ${line}; walk done ${total.toFixed(0)} ms; ` +
          `listings with a ready data connection: ${client.poolStats.readyPassivesUsed}; ` +
          `connections ${client.poolStats.open}; commands ${client.commandsSent}`,
      );
      await client.disconnect();
    }
  },
);
