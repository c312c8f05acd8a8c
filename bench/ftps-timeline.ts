/**
 * Where an FTPS file's time goes on the emulated WAN, beside the same over plain FTP: one control
 * connection downloads radar files one after another from proftpd in the WAN namespace (explicit
 * FTPS, protected data, TLS 1.3), and for each file prints when the data connection's TCP and TLS
 * handshakes completed, whether it resumed the session, when the session ticket came, and the
 * usual EPSV/RETR/150/first byte/last byte/226 marks. Evidence for docs/PERFORMANCE.md (session 5,
 * FTPS); not part of `npm run bench`. bench/wan-timeline.ts is the plain-FTP original.
 *
 *   flock /tmp/radarlib-bench.lock node --import tsx bench/ftps-timeline.ts [--files 8] [--plain]
 *                                                                           [--pcap FILE]
 *
 * `--pcap FILE`: also capture the link's packets (tcpdump on the host side) for a closer look.
 * Times are ms from the transfer's EPSV. Needs root (network namespace), like the bench's WAN runs.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { openConnection, resolveServer } from '../src/ftp/connection.js';
import { makeRadarDataset } from '../test/helpers/dataset.js';
import { loginTo } from '../test/helpers/ftp-login.js';
import { startProftpd } from './lib/proftpd.js';
import { wan, WAN_HOST, WAN_NS } from './lib/setup.js';

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '8' },
    plain: { type: 'boolean', default: false },
    pcap: { type: 'string' },
  },
});
const FILES = Number(values.files);
const TLS = !values.plain;
const PORT = 2122;
const RTT_MS = 52;
/** The host side of bench/wan/wan.sh's link. */
const HOST_IF = 'rlw-h';

interface Timeline {
  size: number;
  marks: Record<string, number>;
  /** [ms since EPSV, bytes] per decrypted data chunk. */
  chunks: [number, number][];
  tls: string[];
}

const work = mkdtempSync(join(tmpdir(), 'radarlib-ftps-timeline-'));
chmodSync(work, 0o711); // proftpd reaches the served folder after dropping to nobody
const up = wan('up');
if (!up.ok) throw new Error(`wan up: ${up.out}`);
const capture =
  values.pcap === undefined
    ? undefined
    : spawn('tcpdump', ['-i', HOST_IF, '-s', '200', '-w', values.pcap], { stdio: 'ignore' });
if (capture !== undefined) await sleep(1000);
try {
  const files = await makeRadarDataset(join(work, 'data'), {
    volumes: Math.ceil(FILES / 5) + 1,
    layout: 'flat',
  });
  const srv = await startProftpd({
    root: join(work, 'data'),
    host: WAN_HOST,
    port: PORT,
    netns: WAN_NS,
    tls: TLS,
  });
  try {
    const server = resolveServer({
      ...loginTo(srv),
      ...(TLS ? { secure: 'explicit' as const, tls: { ca: srv.tlsCertPem } } : {}),
    });
    const client = await openConnection(server);
    const ftp = client.ftp;
    let current: Timeline | undefined;
    let t0 = 0;
    const now = (): number => performance.now() - t0;
    // watch each data socket from the moment connection.ts hands it to basic-ftp
    const prop = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(ftp), 'dataSocket');
    if (prop?.get === undefined || prop.set === undefined)
      throw new Error('basic-ftp changed: no dataSocket accessor');
    const { get, set } = prop;
    Object.defineProperty(ftp, 'dataSocket', {
      get() {
        return get.call(ftp) as unknown;
      },
      set(socket: Socket | undefined) {
        set.call(ftp, socket);
        const tl = current;
        if (socket === undefined || tl === undefined) return;
        // tls.connect({ socket }) wraps the raw TCP socket, which says when TCP is up
        const raw = (socket as unknown as { _parent?: Socket })._parent ?? socket;
        raw.once('connect', () => (tl.marks['tcp up'] ??= now()));
        socket.once('secureConnect', () => {
          tl.marks['tls up'] ??= now();
          const s = socket as TLSSocket;
          tl.tls.push(`${s.getProtocol() ?? '?'} ${s.isSessionReused() ? 'resumed' : 'FULL handshake'}`);
        });
        socket.on('session', () => tl.tls.push(`ticket ${now().toFixed(0)}`));
        socket.on('data', (chunk: Buffer) => tl.chunks.push([now(), chunk.length]));
      },
    });
    ftp.verbose = true;
    ftp.log = (message: string) => {
      const m = /^([<>]) (\w+)/.exec(message.trim());
      if (m === null || current === undefined) return;
      current.marks[`${m[1] === '>' ? 'sent' : 'got'} ${m[2]}`] ??= now();
    };
    const rows: Timeline[] = [];
    for (const f of files.slice(0, FILES + 1)) {
      current = { size: f.size, marks: {}, chunks: [], tls: [] };
      t0 = performance.now();
      // basic-ftp's download through the client's transfer set-up (connection.ts: early connect,
      // resumed TLS): the wire is the same as downloadFiles'; the bytes are only counted here
      await client.downloadTo(new Writable({ write: (_chunk, _enc, done) => done() }), `/${f.relPath}`);
      current.marks.done = now();
      rows.push(current);
    }
    client.close();
    const cols = [
      'got 229',
      'sent RETR',
      'tcp up',
      'tls up',
      'got 150',
      'first byte',
      'last byte',
      'got 226',
      'done',
    ];
    console.log(
      `${TLS ? 'FTPS' : 'plain FTP'}, one connection, proftpd over the emulated WAN; ms from EPSV sent`,
    );
    console.log(`size KB | ${cols.join(' | ')} | KB per ${RTT_MS} ms after the first byte | TLS`);
    // the first transfer finds the passive mode (no early connect): left out
    for (const r of rows.slice(1)) {
      r.marks['first byte'] = r.chunks[0]?.[0] ?? NaN;
      r.marks['last byte'] = r.chunks.at(-1)?.[0] ?? NaN;
      const perRtt: number[] = [];
      for (const [t, n] of r.chunks) {
        const k = Math.floor((t - (r.marks['first byte'] ?? 0)) / RTT_MS);
        perRtt[k] = (perRtt[k] ?? 0) + n;
      }
      const ms = (v: number | undefined): string => (v === undefined ? '–' : v.toFixed(0));
      const kb = [...perRtt].map((b) => ((b ?? 0) / 1000).toFixed(0)).join(' ');
      console.log(
        [(r.size / 1000).toFixed(0), ...cols.map((c) => ms(r.marks[c])), kb, r.tls.join(', ')].join(' | '),
      );
    }
    console.log(`server received: ${JSON.stringify(srv.commands())}`);
  } finally {
    await srv.stop();
  }
} finally {
  capture?.kill('SIGINT');
  if (capture !== undefined) await sleep(500);
  wan('down');
  rmSync(work, { recursive: true, force: true });
}
