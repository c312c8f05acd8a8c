/**
 * Where one file's time goes on the emulated WAN: a per-file timeline of one control connection
 * downloading radar files one after another from proftpd in the WAN namespace (the bench's
 * server), and how many bytes arrived in each round trip after the first (TCP slow start of every
 * new data connection). Evidence for docs/PERFORMANCE.md; not part of `npm run bench`.
 *
 *   flock /tmp/radarlib-bench.lock node --import tsx bench/wan-timeline.ts [--files 12]
 *
 * Times are ms from the transfer's EPSV; "rtt k" columns are KB received in the k-th round trip
 * after the first byte. Needs root (network namespace), like the bench's WAN runs.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Socket } from 'node:net';
import { openConnection, resolveServer } from '../src/ftp/connection.js';
import { downloadAtomically } from '../src/ftp/download.js';
import { makeRadarDataset } from '../test/helpers/dataset.js';
import { withWanProftpd } from './lib/wan-proftpd.js';

const { values } = parseArgs({ options: { files: { type: 'string', default: '12' } } });
const FILES = Number(values.files);
const PORT = 2122;

interface Timeline {
  name: string;
  size: number;
  marks: Record<string, number>;
  /** [ms since EPSV, bytes] per data chunk. */
  chunks: [number, number][];
}

await withWanProftpd(
  PORT,
  (dir) => makeRadarDataset(dir, { volumes: Math.ceil(FILES / 5) + 1, layout: 'flat' }),
  async (srv, files, work) => {
    const server = resolveServer({
      host: srv.host,
      port: srv.port,
      username: srv.user,
      password: srv.password,
    });
    const client = await openConnection(server);
    const ftp = client.ftp;
    let current: Timeline | undefined;
    let t0 = 0;
    const now = (): number => performance.now() - t0;
    // basic-ftp reports every command and reply through log() when verbose
    ftp.verbose = true;
    ftp.log = (message: string) => {
      const tl = current;
      if (tl === undefined) return;
      // logged by basic-ftp just before it pipes the data socket: watch the same socket
      const socket = ftp.dataSocket as Socket | undefined;
      if (message.startsWith('Downloading from') && socket !== undefined) {
        tl.marks['data piped'] = now();
        socket.on('data', (chunk: Buffer) => tl.chunks.push([now(), chunk.length]));
        socket.once('end', () => (tl.marks['data end'] ??= now()));
        return;
      }
      const m = /^([<>]) (\w+)/.exec(message.trim());
      if (m === null) return;
      const key = `${m[1] === '>' ? 'sent' : 'got'} ${m[2]}`;
      tl.marks[key] ??= now();
    };
    const rows: Timeline[] = [];
    for (const f of files.slice(0, FILES + 1)) {
      current = { name: f.relPath, size: f.size, marks: {}, chunks: [] };
      t0 = performance.now();
      await downloadAtomically(
        client,
        {
          remotePath: `/${f.relPath}`,
          localDir: join(work, 'out'),
          localName: f.relPath,
          size: f.size,
          modifiedAt: null,
          resume: false,
          dataStallMs: 30_000,
        },
        { host: srv.host, port: srv.port, command: 'RETR' },
      );
      current.marks.done = now();
      rows.push(current);
    }
    client.close();
    const rtt = 52;
    console.log(`one connection, proftpd over the emulated WAN (${rtt} ms nominal RTT); ms from EPSV sent`);
    console.log(
      'size KB | 229 | RETR sent | 150 | first byte | last byte | 226 | done | KB per RTT after first byte',
    );
    // the first transfer finds the passive mode (no early connect): left out
    for (const r of rows.slice(1)) {
      const first = r.chunks[0]?.[0] ?? NaN;
      const last = r.chunks.at(-1)?.[0] ?? NaN;
      const perRtt: number[] = [];
      for (const [t, n] of r.chunks) {
        const k = Math.floor((t - first) / rtt);
        perRtt[k] = (perRtt[k] ?? 0) + n;
      }
      const m = r.marks;
      const f = (v: number | undefined): string => (v === undefined ? '–' : v.toFixed(0));
      console.log(
        [
          (r.size / 1000).toFixed(0),
          f(m['got 229']),
          f(m['sent RETR']),
          f(m['got 150']),
          f(first),
          f(last),
          f(m['got 226']),
          f(m.done),
          [...perRtt].map((b) => ((b ?? 0) / 1000).toFixed(0)).join(' '),
        ].join(' | '),
      );
    }
  },
);
