/** FileSink (src/ftp/file-sink.ts): the data socket's destination, writing into an open `.part`. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { FileSink } from '../../src/ftp/file-sink.js';

/** Chunks of the sizes a socket hands over: a few KiB on a WAN, 64 KiB on loopback. */
function chunksOf(data: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length] as number;
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

test('every byte lands in order, from a resume offset on, and the descriptor stays open', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'radarlib-sink-'));
  try {
    const path = join(dir, 'x.part');
    const head = Buffer.from('already here');
    await writeFile(path, head);
    const data = randomBytes(1_700_000);
    const handle = await open(path, 'r+');
    const sink = new FileSink(handle, head.length);
    await pipeline(Readable.from(chunksOf(data, [1448, 65_536, 3000, 700_000, 17])), sink);
    assert.equal(sink.bytesWritten, data.length);
    await handle.datasync(); // still open: the commit uses it
    await handle.close();
    assert.deepEqual(await readFile(path), Buffer.concat([head, data]));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('destroyed mid-transfer: close waits for the running write (the caller closes the fd next)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'radarlib-sink-'));
  try {
    const path = join(dir, 'y.part');
    const handle = await open(path, 'w');
    const sink = new FileSink(handle, 0);
    const block = randomBytes(600_000); // over one block: a write starts at once
    sink.write(block);
    let writtenAtClose = -1;
    const closed = new Promise<void>((resolve) =>
      sink.once('close', () => {
        writtenAtClose = sink.bytesWritten;
        resolve();
      }),
    );
    sink.once('error', () => undefined);
    sink.destroy(new Error('connection lost'));
    await closed;
    assert.equal(writtenAtClose, block.length, "'close' came after the running write ended");
    await handle.close();
    assert.deepEqual(await readFile(path), block);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
