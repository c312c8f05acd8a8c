/**
 * The early hand-off of a data slot (src/ftp/data-connection/gate.ts): when the transfer's size is known,
 * its slot goes to the next transfer about one lag (slot to first byte) before its data ends, so
 * the next file's RETR and handshake overlap this one's tail; the stats count the overlap.
 *
 * 1. At the slot level, over real TCP: a server that sends a known number of bytes and holds the
 *    last block back until the test has seen the next transfer get the slot (or 3 s passed). With
 *    the size given, the slot is handed on before the data ends; without it, only at the end.
 * 2. Through `downloadFiles(..., { overlapSetup: true })`: the embedded server behind the fault
 *    proxy, which relays each reply and data block late (a long link's lag), one data slot. The
 *    batch (download.ts gives the size) hands slots on early, every file whole.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FTPContext } from 'basic-ftp';
import { AsyncFTPClient } from '../../src/ftp/client.js';
import {
  DataSlots,
  expectDataBytes,
  gateTransfers,
  holdDataSlot,
} from '../../src/ftp/data-connection/index.js';
import { startEmbeddedFtp } from '../helpers/embedded-ftp.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { sha256File, sha256Hex } from '../helpers/hash.js';
import { scaled } from '../helpers/wait.js';

const BLOCK = 10_000;
const BLOCKS = 20;

/**
 * Sends BLOCKS blocks of BLOCK bytes, one every 10 ms, the last one only once `release` settles
 * (or after 3 s), then ends. `firstAfterMs`: wait before the first block.
 */
async function pacedServer(release: Promise<void>, firstAfterMs = 0): Promise<Server> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    void (async () => {
      await new Promise((resolve) => setTimeout(resolve, firstAfterMs));
      for (let i = 0; i < BLOCKS - 1 && !socket.destroyed; i++) {
        socket.write(Buffer.alloc(BLOCK, i));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await Promise.race([release, new Promise((resolve) => setTimeout(resolve, 3000))]);
      socket.end(Buffer.alloc(BLOCK, 255));
    })();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** One gated transfer from `server`: in what order the next transfer got the slot and the data ended. */
async function oneTransfer(
  slots: DataSlots,
  server: Server,
  size: number | undefined,
  onGranted: () => void,
): Promise<string[]> {
  const ftp = new FTPContext();
  try {
    gateTransfers(ftp, slots);
    if (size !== undefined) expectDataBytes(ftp, size);
    const socket: Socket = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1' });
    ftp.dataSocket = socket;
    await holdDataSlot(ftp);
    const order: string[] = [];
    const next = slots.acquire(once(socket, 'close').then(() => undefined));
    void next.then((slot) => {
      order.push(slot === undefined ? 'no slot' : 'next transfer has the slot');
      onGranted();
      slot?.release();
    });
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
    // noted synchronously: a slot freed by the end itself is granted after this (a promise)
    const ended = once(socket, 'end');
    socket.once('end', () => order.push(`data ended (${bytes} bytes)`));
    await ended;
    await next;
    return order;
  } finally {
    ftp.close();
  }
}

test('a slot is handed on before its data ends when the size is known, and only then', async () => {
  const size = BLOCK * BLOCKS;
  const slots = new DataSlots(1);
  // a first transfer whose first byte comes 60 ms after its slot: the lag the hand-off uses
  let releaseFirst: () => void = () => undefined;
  const first = await pacedServer(new Promise((resolve) => (releaseFirst = resolve)), 60);
  try {
    await oneTransfer(slots, first, size, releaseFirst);
  } finally {
    first.close();
  }
  const lag = slots.lag;
  assert.ok(lag !== undefined && lag >= 60, `lag measured from the slot to the first byte: ${lag}`);

  let release: () => void = () => undefined;
  const server = await pacedServer(new Promise((resolve) => (release = resolve)));
  try {
    assert.deepEqual(await oneTransfer(slots, server, size, release), [
      'next transfer has the slot',
      `data ended (${size} bytes)`,
    ]);
    assert.equal(slots.stats.handedOffEarly, 2, 'both transfers handed their slot on early');
    // the handed-on transfer still counted: two in flight at once
    assert.equal(slots.stats.peak, 2);

    // without the size nothing is handed on: the next transfer waits for the end (the server
    // holds the last block 3 s for it)
    const plain = new DataSlots(1);
    plain.noteLag(lag);
    assert.deepEqual(await oneTransfer(plain, server, undefined, release), [
      `data ended (${size} bytes)`,
      'next transfer has the slot',
    ]);
    assert.equal(plain.stats.handedOffEarly, 0);
    assert.equal(plain.stats.peak, 1);
  } finally {
    server.close();
  }
});

test('overlapSetup through a slow link: slots handed on early, every file whole', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'radarlib-handoff-'));
  const root = join(base, 'srv');
  mkdirSync(root);
  const hashes = new Map<string, string>();
  for (let f = 0; f < 6; f++) {
    const data = Buffer.alloc(300_000 + f * 10_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + f) & 255;
    const name = `f${f}.BUFR`;
    writeFileSync(join(root, name), data);
    hashes.set(name, sha256Hex(data));
  }
  const server = await startEmbeddedFtp({ root });
  // every reply and data block relayed this late: a lag of at least one such delay per transfer
  const proxy = await startFaultProxy({ upstreamHost: server.host, upstreamPort: server.port, delayMs: 20 });
  const client = new AsyncFTPClient({
    host: proxy.host,
    port: proxy.port,
    username: server.user,
    password: server.password,
    timeouts: { connectMs: scaled(10_000), commandMs: scaled(10_000), dataStallMs: scaled(10_000) },
  });
  t.after(async () => {
    client.destroy();
    await proxy.stop();
    await server.stop();
    rmSync(base, { recursive: true, force: true });
  });
  const entries = (await client.listEntries('/')).sort((a, b) => a.name.localeCompare(b.name));
  const dest = join(base, 'out');
  const batch = await client.downloadFiles(entries, dest, { maxConcurrent: 1, overlapSetup: true });
  assert.equal(batch.failures.length, 0, String(batch.failures[0]?.error));
  for (const [name, hash] of hashes) assert.equal(sha256File(join(dest, name)), hash, name);
  const slots = batch.dataTransfers;
  assert.ok(slots !== undefined);
  // the first transfer measures the lag; the later ones know their size and hand on early
  assert.ok(slots.handedOffEarly >= 1, JSON.stringify(slots));
  // one slot, two control connections: at most the running file's tail beside the next file
  assert.ok(slots.peak <= 2, JSON.stringify(slots));
  assert.ok(client.poolStats.peakBusy <= 2, `connections ${client.poolStats.peakBusy}`);
});
