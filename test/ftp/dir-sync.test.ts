/** Group commit of folder fsyncs (src/ftp/dir-sync.ts), on a real folder. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirSync, syncPath } from '../../src/ftp/dir-sync.js';
import { syncSlots } from '../../src/util/sync-slots.js';
import { waitUntil } from '../helpers/wait.js';

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

test('renames made while the fsync waits for a sync slot share it (it has not started yet)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'radarlib-dirsync-'));
  try {
    const slots = syncSlots(1);
    const sync = new DirSync(slots);
    // the only slot is taken (another file's fdatasync, say)
    let release: () => void = () => undefined;
    const busy = slots.add(() => new Promise<void>((resolve) => (release = resolve)));
    const first = sync.sync(dir);
    const more = Array.from({ length: 5 }, () => sync.sync(dir));
    assert.equal(sync.fsyncs, 0, 'nothing started while the slot is taken');
    release();
    await Promise.all([busy, first, ...more]);
    assert.equal(sync.fsyncs, 1, 'one folder fsync for all six renames');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('sync slots: never more fsyncs at once than slots, every one runs, in order of arrival', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'radarlib-dirsync-'));
  try {
    const slots = syncSlots(2);
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        slots.add(async () => {
          peak = Math.max(peak, slots.pending);
          order.push(i);
          await syncPath(dir, 'all'); // a real folder fsync holds the slot
        }),
      ),
    );
    assert.equal(peak, 2);
    assert.deepEqual(
      order,
      Array.from({ length: 12 }, (_, i) => i),
    );
    assert.equal(slots.pending, 0, 'every slot given back');
    // a failing sync gives its slot back too
    await assert.rejects(
      slots.add(() => syncPath(join(dir, 'missing'), 'data')),
      { code: 'ENOENT' },
    );
    assert.equal(slots.pending, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** Descriptors of this process open on `dir`. */
function openOn(dir: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === dir;
    } catch {
      return false; // closed meanwhile (the readdir's own descriptor)
    }
  }).length;
}

test('fsyncs that follow each other share one descriptor of the folder, closed once idle', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'radarlib-dirsync-'));
  try {
    const sync = new DirSync();
    for (let i = 0; i < 5; i++) await sync.sync(dir);
    assert.equal(sync.fsyncs, 5);
    assert.equal(sync.opens, 1, 'one open for five fsyncs in a row');
    assert.equal(openOn(dir), 1, 'kept between them');
    await waitUntil('the idle folder descriptor to close', Date.now() + 5_000, () =>
      openOn(dir) === 0 ? true : undefined,
    );
    await sync.sync(dir);
    assert.equal(sync.opens, 2, 'opened again after it was closed');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('after a failed folder fsync the next one opens the folder afresh', async () => {
  const base = await mkdtemp(join(tmpdir(), 'radarlib-dirsync-'));
  const dir = join(base, 'later');
  try {
    const sync = new DirSync();
    await assert.rejects(sync.sync(dir), { code: 'ENOENT' });
    await mkdir(dir);
    await sync.sync(dir);
    assert.equal(sync.opens, 2);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test('with lingerMs a new fsync waits for renames that come meanwhile, and covers them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'radarlib-dirsync-'));
  try {
    const sync = new DirSync();
    // without a linger the first starts at once and the second needs its own (see the first test)
    const first = sync.sync(dir, 1_000);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(sync.fsyncs, 0, 'not started while lingering');
    const second = sync.sync(dir, 1_000);
    await Promise.all([first, second]);
    assert.equal(sync.fsyncs, 1, 'one folder fsync for both renames');
    // no linger: starts at once
    const third = sync.sync(dir);
    assert.equal(sync.fsyncs, 2);
    await third;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
