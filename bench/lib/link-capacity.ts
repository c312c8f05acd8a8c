/**
 * What the emulated WAN link itself carries, measured with plain TCP: no FTP, no files, no disk.
 *
 * The link is bench/wan/wan.sh's user-space forwarder (python, one packet at a time) on a shared
 * 2-core machine, so its real capacity can fall short of the nominal 100 Mbit/s, and a mirror can
 * never beat it. A sender inside the namespace writes `bytesPerStream` bytes on each of `streams`
 * TCP connections; this side reads them and times the whole (connects included, as a mirror's
 * transfers pay them too) and the steady part (first byte to last byte).
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { once } from 'node:events';
import { WAN_HOST, WAN_NS } from './setup.js';

export interface LinkCapacity {
  streams: number;
  bytes: number;
  /** Bytes/s from the first connect to the last byte. */
  bytesPerS: number;
  /** Bytes/s from the first byte received to the last. */
  steadyBytesPerS: number;
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

/** Runs one sender in the namespace on `port`; the returned function stops it. */
async function startSender(port: number, bytesPerStream: number): Promise<() => void> {
  const child = spawn(
    'ip',
    ['netns', 'exec', WAN_NS, process.execPath, '-e', SENDER, WAN_HOST, String(port), String(bytesPerStream)],
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
): Promise<LinkCapacity> {
  const stop = await startSender(port, bytesPerStream);
  try {
    const t0 = performance.now();
    let firstByte = 0;
    const one = (): Promise<number> =>
      new Promise((resolve, reject) => {
        let got = 0;
        const s = connect({ host: WAN_HOST, port });
        s.setTimeout(60_000, () => s.destroy(new Error('link capacity: stream stalled for 60 s')));
        s.on('data', (chunk: Buffer) => {
          if (firstByte === 0) firstByte = performance.now();
          got += chunk.length;
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
      wallS: (t1 - t0) / 1000,
    };
  } finally {
    stop();
  }
}
