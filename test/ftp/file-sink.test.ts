/** FileSink (src/ftp/file-sink.ts): the data socket's destination, writing into an open `.part`. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    const data = randomBytes(3_700_000);
    const handle = await open(path, 'r+');
    const sink = new FileSink(handle, head.length, (err) => assert.fail(err));
    let pauses = 0;
    let drains = 0;
    sink.onDrain = () => drains++;
    for (const chunk of chunksOf(data, [1448, 65_536, 3000, 700_000, 17])) if (!sink.push(chunk)) pauses++;
    assert.equal(await sink.finish(), data.length);
    assert.equal(sink.bytesWritten, data.length);
    // pushed faster than the disk takes them: the source was told to pause, and to go on after
    assert.ok(pauses > 0, 'asked to pause');
    assert.ok(drains > 0, 'told to go on');
    await handle.datasync(); // still open: the commit uses it
    await handle.close();
    assert.deepEqual(await readFile(path), Buffer.concat([head, data]));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a write error is reported at once and by finish(); later chunks are dropped', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'radarlib-sink-'));
  try {
    const path = join(dir, 'z.part');
    await writeFile(path, '');
    const handle = await open(path, 'r'); // not writable: the write fails (EBADF)
    const errors: Error[] = [];
    let reported: () => void = () => undefined;
    const firstError = new Promise<void>((resolve) => (reported = resolve));
    const sink = new FileSink(handle, 0, (err) => {
      errors.push(err);
      reported();
    });
    sink.push(randomBytes(1_100_000)); // over one block: a write starts at once
    await firstError; // reported without finish(): the transfer can be ended at once
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as NodeJS.ErrnoException).code, 'EBADF');
    assert.equal(sink.push(randomBytes(10)), true);
    await assert.rejects(sink.finish(), (err: NodeJS.ErrnoException) => err.code === 'EBADF');
    assert.equal(errors.length, 1, 'reported once');
    await handle.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
