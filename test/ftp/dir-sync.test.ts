/** Group commit of folder fsyncs (src/ftp/dir-sync.ts), on a real folder. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirSync } from '../../src/ftp/dir-sync.js';

test('renames of the moment share folder fsyncs: one running, one gathering the rest', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'radarlib-dirsync-'));
  try {
    const sync = new DirSync();
    // ten renames finishing together: the first starts an fsync, the other nine wait for the
    // next one (the running one may have started before their rename)
    await Promise.all(Array.from({ length: 10 }, () => sync.sync(dir)));
    assert.equal(sync.fsyncs, 2);
    // one after the other: each needs its own
    await sync.sync(dir);
    await sync.sync(dir);
    assert.equal(sync.fsyncs, 4);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a request made while an fsync runs resolves only after a later fsync', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'radarlib-dirsync-'));
  try {
    const sync = new DirSync();
    const order: string[] = [];
    const first = sync.sync(dir).then(() => order.push('first'));
    const second = sync.sync(dir).then(() => order.push('second'));
    await Promise.all([first, second]);
    assert.deepEqual(order, ['first', 'second']);
    assert.equal(sync.fsyncs, 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a missing folder rejects (the caller reports the rename as not durable)', async () => {
  const sync = new DirSync();
  await assert.rejects(sync.sync(join(tmpdir(), 'radarlib-no-such-dir-' + String(process.pid))), {
    code: 'ENOENT',
  });
});
