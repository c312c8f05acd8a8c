/**
 * Where a recursive listing's time goes on the emulated WAN: `connect()` then `listEntries` of a
 * radar date tree (`/L2/RMA1/YYYY/MM/DD/HH/MMSS`, the bench's layout) from proftpd in the WAN
 * namespace, with each folder's listing timed (ms from the start of the walk). Evidence for
 * docs/PERFORMANCE.md; not part of `npm run bench`.
 *
 *   flock /tmp/radarlib-bench.lock node --import tsx bench/walk-timeline.ts [--volumes 8] [--connections 16] [--runs 3]
 *
 * Prints per run: the login, each folder level (first listing started, last ended), the walk's
 * total, and how many listings found their data connection already open (src/ftp/data-connection/ready.ts).
 * Needs root (network namespace), like the bench's WAN runs.
 */
import { parseArgs } from 'node:util';
import { AsyncFTPClient } from '../src/ftp/client.js';
import { makeRadarDataset } from '../test/helpers/dataset.js';
import { timeListingLevels } from './lib/listing-levels.js';
import { withWanProftpd } from './lib/wan-proftpd.js';

const { values } = parseArgs({
  options: {
    volumes: { type: 'string', default: '8' },
    connections: { type: 'string', default: '16' },
    runs: { type: 'string', default: '3' },
  },
});
const PORT = 2123;

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
      const listings = timeListingLevels(at);
      const found = await client.listEntries('/L2', { recursive: true, pattern: '*.BUFR' });
      const total = at();
      if (found.length !== files.length) throw new Error(`listed ${found.length} of ${files.length} files`);
      listings.restore();
      const line = listings.describe();
      console.log(
        `run ${run + 1}: login ${loggedIn.toFixed(0)} ms; ${line}; walk done ${total.toFixed(0)} ms; ` +
          `listings with a ready data connection: ${client.poolStats.readyPassivesUsed}; ` +
          `connections ${client.poolStats.open}; commands ${client.commandsSent}`,
      );
      await client.disconnect();
    }
  },
);
