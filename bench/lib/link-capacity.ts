/**
 * What the emulated WAN link itself carries, measured with plain TCP: no FTP, no files, no disk.
 *
 * The link is bench/wan/wan.sh's user-space forwarder on a shared 2-core machine, so its real
 * capacity could fall short of the nominal 100 Mbit/s (the Python forwarder at normal priority
 * did under load), and a mirror can never beat it. A sender inside the namespace writes
 * `bytesPerStream` bytes on each of `streams` TCP connections; this side reads them and times the
 * whole (connects included, as a mirror's transfers pay them too), first byte to last byte, and
 * the middle 80 % of the bytes. Only the last is the link's own rate: the first two include TCP's
 * slow start (~6 round trips to fill 50 ms × 100 Mbit/s) and the streams that finish last alone,
 * which cost 5–14 % of a 24 MB transfer on any link of this size (bench/wan/capacity.ts prints all
 * three; docs/PERFORMANCE.md, "Session 5: the WAN emulator's capacity").
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { once } from 'node:events';
import { WAN_HOST, WAN_NS } from './setup.js';

/** The probes bench/run.ts and bench/wan/capacity.ts run: one bulk stream, then many in parallel. */
export const CAPACITY_PROBES = [
  { streams: 1, bytesPerStream: 24e6 },
  { streams: 5, bytesPerStream: 6e6 },
  { streams: 16, bytesPerStream: 2e6 },
  { streams: 32, bytesPerStream: 1e6 },
] as const;

/** The nominal link, 100 Mbit/s, as TCP payload: 1448 bytes per 1500-byte packet with timestamps. */
export const LINK_PAYLOAD_BYTES_PER_S = (100e6 / 8) * (1448 / 1500);

export interface LinkCapacity {
  streams: number;
  bytes: number;
  /** Bytes/s from the first connect to the last byte. */
  bytesPerS: number;
  /** Bytes/s from the first byte received to the last. */
  steadyBytesPerS: number;
  /**
   * Bytes/s while the middle 80 % of the bytes arrived (from 10 % received to 90 %): the link's
   * rate once the connections are out of slow start and before the last ones finish alone.
   */
  bulkBytesPerS: number;
  wallS: number;
}

/** A TCP sender inside the namespace: every accepted connection gets `bytes` bytes, then FIN. */
const SENDER = `
const net = require('node:net');
const [host, port, bytes] = process.argv.slice(1);
const block = Buffer.alloc(256 * 1024, 7);
const server = net.createServer((s) => {
  let left = Number(bytes);
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, block.length);
      left -= n;
      if (!s.write(n === block.length ? block : block.subarray(0, n))) return void s.once('drain', pump);
    }
    s.end();
  };
  s.on('error', () => undefined);
  pump();
});
server.listen(Number(port), host, () => console.log('ready'));
setTimeout(() => process.exit(0), 600000).unref();
`;

/** Which link to measure: the standard one (bench/wan/wan.sh's defaults) unless told otherwise. */
export interface LinkEnds {
  /** The network namespace the sender runs in. */
  ns: string;
  /** The namespace's address on the link. */
  host: string;
}

const STANDARD_LINK: LinkEnds = { ns: WAN_NS, host: WAN_HOST };

/** Runs one sender in the namespace on `port`; the returned function stops it. */
async function startSender(port: number, bytesPerStream: number, link: LinkEnds): Promise<() => void> {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      link.ns,
      process.execPath,
      '-e',
      SENDER,
      link.host,
      String(port),
      String(bytesPerStream),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const deadline = setTimeout(() => child.kill('SIGKILL'), 15_000);
  try {
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    if (!line.toString().includes('ready')) throw new Error(`link sender: ${line.toString()}`);
  } finally {
    clearTimeout(deadline);
  }
  return () => child.kill('SIGTERM');
}

/** `streams` parallel TCP downloads of `bytesPerStream` each, over the emulated link. */
export async function measureLinkCapacity(
  streams: number,
  bytesPerStream: number,
  port: number,
  link: LinkEnds = STANDARD_LINK,
): Promise<LinkCapacity> {
  const stop = await startSender(port, bytesPerStream, link);
  try {
    const t0 = performance.now();
    let firstByte = 0;
    const total = streams * bytesPerStream;
    let received = 0;
    let at10 = 0;
    let at90 = 0;
    const one = (): Promise<number> =>
      new Promise((resolve, reject) => {
        let got = 0;
        const s = connect({ host: link.host, port });
        s.setTimeout(60_000, () => s.destroy(new Error('link capacity: stream stalled for 60 s')));
        s.on('data', (chunk: Buffer) => {
          if (firstByte === 0) firstByte = performance.now();
          got += chunk.length;
          received += chunk.length;
          if (at10 === 0 && received >= total * 0.1) at10 = performance.now();
          if (at90 === 0 && received >= total * 0.9) at90 = performance.now();
        });
        s.once('end', () => resolve(got));
        s.once('error', reject);
      });
    const got = await Promise.all(Array.from({ length: streams }, one));
    const t1 = performance.now();
    const bytes = got.reduce((a, b) => a + b, 0);
    if (bytes !== streams * bytesPerStream) throw new Error(`link capacity: got ${bytes} bytes`);
    return {
      streams,
      bytes,
      bytesPerS: (bytes * 1000) / (t1 - t0),
      steadyBytesPerS: (bytes * 1000) / Math.max(1, t1 - firstByte),
      bulkBytesPerS: (total * 0.8 * 1000) / Math.max(1, at90 - at10),
      wallS: (t1 - t0) / 1000,
    };
  } finally {
    stop();
  }
}
