/**
 * The `.part` on a raw descriptor (src/ftp/part-file.ts): closed on the main thread once its
 * fdatasync is done, through the thread pool otherwise. What users rely on: every file under its
 * final name is complete, a short transfer never takes the final name, and no descriptor is left
 * open on either path (a daemon runs for months).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FtpSizeMismatchError } from '../../src/ftp/index.js';
import { PartFile } from '../../src/ftp/part-file.js';
import { serveRadarFolder } from '../helpers/embedded-ftp.js';

/** Descriptors of this process open on a file under `dir` (a deleted one included). */
function openUnder(dir: string): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(`${dir}/`) ? [target] : [];
    } catch {
      return []; // closed meanwhile (the readdir's own descriptor)
    }
  });
}

const serve = (t: test.TestContext, files: Record<string, Buffer>) => serveRadarFolder(t, files, 3);

test('a batch: every file complete under its final name, no .part left, no descriptor open', async (t) => {
  const files: Record<string, Buffer> = {};
  // one under a write block, one over (two writes), one empty
  for (const [i, size] of [300_000, 1_500_000, 0, 70_000, 520_000].entries())
    files[`f${i}.BUFR`] = Buffer.alloc(size, i + 1);
  const { local, client } = await serve(t, files);
  const listed = await client.listEntries('/radar');
  const batch = await client.downloadFiles(listed, local, { maxConcurrent: 3 });
  assert.deepEqual(batch.failures, []);
  assert.deepEqual(readdirSync(local).sort(), Object.keys(files).sort());
  for (const [name, data] of Object.entries(files)) assert.deepEqual(readFileSync(join(local, name)), data);
  assert.deepEqual(openUnder(local), []);
});

test('a transfer shorter than the listed size never takes the final name and leaves no descriptor', async (t) => {
  const { local, client } = await serve(t, { 'short.BUFR': Buffer.alloc(200_000, 7) });
  await assert.rejects(
    client.downloadFile('/radar/short.BUFR', local, { expectedSize: 250_000 }),
    FtpSizeMismatchError,
  );
  assert.deepEqual(readdirSync(local), [], 'neither the final name nor the garbage .part');
  assert.deepEqual(openUnder(local), []);
  // the connection is still good for the next file
  const path = await client.downloadFile('/radar/short.BUFR', local, { expectedSize: 200_000 });
  assert.deepEqual(readFileSync(path), Buffer.alloc(200_000, 7));
  assert.deepEqual(openUnder(local), []);
});

test('PartFile: positioned writes, fdatasync, and either close once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'radarlib-part-file-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'x.part');
  const a = await PartFile.open(path, 'wx');
  await assert.rejects(PartFile.open(path, 'wx'), (err: NodeJS.ErrnoException) => err.code === 'EEXIST');
  assert.deepEqual(await a.writev([Buffer.from('abc'), Buffer.from('def')], 0), { bytesWritten: 6 });
  assert.deepEqual(await a.writev([Buffer.from('XY')], 2), { bytesWritten: 2 });
  await a.datasync();
  a.closeDurable();
  a.closeDurable(); // a second close does nothing (the number may belong to another file by now)
  await a.close();
  assert.deepEqual(openUnder(dir), []);
  assert.equal(readFileSync(path, 'utf8'), 'abXYef');
  const b = await PartFile.open(path, 'r+');
  await b.close();
  b.closeDurable();
  assert.deepEqual(openUnder(dir), []);
});
