/**
 * `downloadFile`'s `onReceived` (src/ftp/client.ts) against the embedded FTP server: it runs
 * once every byte has arrived and the connection is back in the pool, before the `.part` is
 * fdatasynced and renamed. With the process's syncs held (util/sync-slots.ts), the file has told
 * its caller it was received and the connection has served the next file's RETR, while nothing
 * is under its final name yet.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileSyncs } from '../../src/util/sync-slots.js';
import { serveRadarFolder } from '../helpers/embedded-ftp.js';
import { scaled, waitUntil } from '../helpers/wait.js';

const A = Buffer.alloc(200_000, 'a');
const B = Buffer.alloc(150_000, 'b');

test('onReceived runs before the fdatasync; the connection takes the next RETR while the sync is held', async (t) => {
  const { local, server, client } = await serveRadarFolder(t, { 'a.BUFR': A, 'b.BUFR': B }, 1);
  const retrs = (): string[] => server.commands.filter((c) => c.directive === 'RETR').map((c) => c.arg ?? '');
  fileSyncs.pause();
  t.after(() => fileSyncs.start());
  const received: string[] = [];
  const first = client.downloadFile('/radar/a.BUFR', local, { onReceived: () => received.push('a') });
  const second = client.downloadFile('/radar/b.BUFR', local, { onReceived: () => received.push('b') });
  // both files received on the one connection, neither fdatasynced
  await waitUntil(
    'both files received while the syncs are held',
    Date.now() + scaled(10_000),
    () => (received.length === 2 ? true : undefined),
    { intervalMs: 10, seen: () => `received ${received.join(',')}; RETRs ${retrs().join(',')}` },
  );
  assert.deepEqual(retrs(), ['/radar/a.BUFR', '/radar/b.BUFR']);
  assert.equal(server.peakConnections, 1);
  assert.deepEqual(
    readdirSync(local).filter((n) => !n.endsWith('.part')),
    [],
    'no file under its final name before its fdatasync',
  );
  fileSyncs.start();
  assert.deepEqual(await Promise.all([first, second]), [join(local, 'a.BUFR'), join(local, 'b.BUFR')]);
  assert.deepEqual(readFileSync(join(local, 'a.BUFR')), A);
  assert.deepEqual(readFileSync(join(local, 'b.BUFR')), B);
  assert.deepEqual(readdirSync(local).sort(), ['a.BUFR', 'b.BUFR']);
});
