/**
 * data-socket.ts: plain data sockets whose reads land straight in a download's own memory, over
 * real TCP on loopback (a Node server sends the bytes, as an FTP server's data connection would).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { newDataSocket, readInto, resumeReading, type ReadTarget } from '../../src/ftp/data-socket.js';
import { FileSink } from '../../src/ftp/file-sink.js';
import type { WritableFile } from '../../src/ftp/part-file.js';
import { scaled, sleep } from '../helpers/wait.js';

/** A server that sends `data` to each connection, then closes it (after `delayMs`). */
async function sender(data: Buffer, delayMs = 0): Promise<Server> {
  const server = createServer((s) => {
    setTimeout(() => s.end(data), delayMs);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

function connectTo(server: Server): Socket {
  const socket = newDataSocket();
  socket.connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1' });
  return socket;
}

/** Resolves on the socket's `end`; rejects after a (load-scaled) deadline saying what arrived. */
function ended(socket: Socket, got: () => number, expected: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no end within ${scaled(10_000)} ms: ${got()} of ${expected} bytes arrived`)),
      scaled(10_000),
    );
    socket.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

test('a claimed socket reads into the FileSink: bytes that arrived before the claim come first, all in order', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'radarlib-datasock-'));
  const data = randomBytes(5_300_000);
  const server = await sender(data);
  try {
    const socket = connectTo(server);
    await once(socket, 'connect');
    // let the first bytes land in the socket's own buffer (a transfer claims it at the 150 reply)
    await sleep(50);
    const handle = await open(join(dir, 'x.part'), 'w');
    const sink = new FileSink(handle, 0, (err) => assert.fail(err));
    let direct = 0;
    const target: ReadTarget = {
      readBuffer: () => sink.readBuffer(),
      didRead: (n) => {
        direct++;
        return sink.didRead(n);
      },
      push: (chunk) => sink.push(chunk),
    };
    sink.onDrain = () => resumeReading(socket);
    assert.equal(readInto(socket, target), true);
    await ended(socket, () => sink.bytesReceived, data.length);
    assert.equal(await sink.finish(), data.length);
    await handle.close();
    assert.ok(direct > 0, 'reads went straight into the sink');
    assert.deepEqual(await readFile(join(dir, 'x.part')), data);
    socket.destroy();
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a target that says "stop" pauses the socket until resumeReading; nothing is lost or reordered', async () => {
  const data = randomBytes(3_000_000);
  const server = await sender(data);
  try {
    const socket = connectTo(server);
    const block = Buffer.alloc(256 * 1024);
    const got: Buffer[] = [];
    let size = 0;
    let stops = 0;
    // a slow consumer: every 512 KiB it asks for a pause and comes back a little later
    const target: ReadTarget = {
      readBuffer: () => block,
      didRead: (n) => target.push(Buffer.from(block.subarray(0, n))),
      push: (chunk) => {
        got.push(chunk);
        size += chunk.length;
        if (size % (512 * 1024) >= chunk.length) return true;
        stops++;
        setTimeout(() => resumeReading(socket), 20);
        return false;
      },
    };
    assert.equal(readInto(socket, target), true);
    await ended(socket, () => size, data.length);
    assert.ok(stops > 0, 'the consumer asked for pauses');
    assert.deepEqual(Buffer.concat(got), data);
    socket.destroy();
  } finally {
    server.close();
  }
});

test('a socket claimed before its data arrives reads every byte into the target: no buffer of its own', async () => {
  const data = randomBytes(2_500_000);
  // the server waits, as an FTP server sends nothing before RETR: the claim comes first
  const server = await sender(data, 100);
  try {
    const socket = connectTo(server);
    const block = Buffer.alloc(300_000);
    const got: Buffer[] = [];
    let pushed = 0;
    const target: ReadTarget = {
      readBuffer: () => block,
      didRead: (n) => {
        got.push(Buffer.from(block.subarray(0, n)));
        return true;
      },
      push: (chunk) => {
        pushed++;
        got.push(chunk);
        return true;
      },
    };
    assert.equal(readInto(socket, target), true);
    await ended(socket, () => got.reduce((n, c) => n + c.length, 0), data.length);
    // Node picks a read's buffer before the read, the first one at connect: that one was a fresh
    // 64 KiB allocation per data connection, handed over by push
    assert.equal(pushed, 0, 'no chunk came in a buffer of the socket');
    assert.deepEqual(Buffer.concat(got), data);
    socket.destroy();
  } finally {
    server.close();
  }
});

test('a FileSink whose writes are held stops the socket: the process does not buffer the file', async () => {
  const data = randomBytes(40_000_000);
  const server = await sender(data);
  try {
    const socket = connectTo(server);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let written = 0;
    const disk: WritableFile = {
      writev: async (buffers) => {
        await held;
        const n = buffers.reduce((sum, b) => sum + b.length, 0);
        written += n;
        return { bytesWritten: n };
      },
    };
    const sink = new FileSink(disk, 0, (err) => assert.fail(err));
    sink.onDrain = () => resumeReading(socket);
    assert.equal(readInto(socket, sink), true);
    const end = ended(socket, () => sink.bytesReceived, data.length);
    // wait until the sink has asked the socket to stop, then give the socket time to overrun
    while (sink.bytesReceived < 3 * 1024 * 1024) await sleep(10);
    await sleep(300);
    const whileHeld = socket.bytesRead;
    // one write running (1 MB), 2 MB gathered, at most one more read into a 1 MB block
    assert.ok(whileHeld <= 5 * 1024 * 1024, `${whileHeld} bytes read while the disk was held`);
    release();
    await end;
    assert.equal(await sink.finish(), data.length);
    assert.equal(written, data.length);
    socket.destroy();
  } finally {
    server.close();
  }
});

test('an unclaimed socket is an ordinary stream (listings read it through data events)', async () => {
  const data = randomBytes(700_000);
  const server = await sender(data, 20);
  try {
    const socket = connectTo(server);
    const got: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => got.push(chunk));
    await ended(socket, () => got.reduce((n, c) => n + c.length, 0), data.length);
    assert.deepEqual(Buffer.concat(got), data);
    socket.destroy();
  } finally {
    server.close();
  }
});

test('readInto refuses a socket it did not make (TLS and basic-ftp sockets keep their data events)', () => {
  const target: ReadTarget = { readBuffer: () => Buffer.alloc(1), didRead: () => true, push: () => true };
  assert.equal(readInto(new (newDataSocket().constructor as typeof Socket)(), target), false);
});
