/**
 * The `.part` is opened while the transfer's EPSV is under way (download.ts `receivePart`): at
 * one connection the open was a thread-pool round trip in series with every file. And when that
 * open fails after the EPSV went out, the file fails with a LocalIoError and the client goes on.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalIoError } from '../../src/ftp/index.js';
import { serveRadarFolder, type EmbeddedFtpServer } from '../helpers/embedded-ftp.js';
import { sleep } from '../helpers/wait.js';

async function serve(t: test.TestContext) {
  const served = await serveRadarFolder(
    t,
    { 'a.BUFR': Buffer.alloc(70_000, 1), 'b.BUFR': Buffer.alloc(50_000, 2) },
    1,
  );
  await served.client.connect();
  return served;
}

const epsvCount = (server: EmbeddedFtpServer): number =>
  server.commands.filter((c) => c.directive === 'EPSV' || c.directive === 'PASV').length;

test('the .part opens while EPSV is under way, not before it', async (t) => {
  const { base, server, client } = await serve(t);
  // A FIFO where the `.part` goes: opening it for writing blocks until a reader comes, so the
  // open holds still and the test can see what went to the server meanwhile.
  const fifo = join(base, 'local', 'a.BUFR.part');
  execFileSync('mkfifo', [fifo]);
  const before = epsvCount(server);
  const download = client.downloadFile('/radar/a.BUFR', join(base, 'local'), { expectedSize: 70_000 });
  download.catch(() => undefined);
  let sent = false;
  for (let i = 0; i < 100 && !sent; i++) {
    await sleep(50);
    sent = epsvCount(server) > before;
  }
  // Let the open return either way (a pool thread is held until then), and drain the FIFO.
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const drain = setInterval(() => {
    try {
      readSync(reader, Buffer.alloc(65_536));
    } catch {
      // EAGAIN: nothing written yet
    }
  }, 5);
  // The FIFO takes the bytes but not the fdatasync: the file fails; only the order matters here.
  await download.then(
    () => undefined,
    () => undefined,
  );
  clearInterval(drain);
  closeSync(reader);
  assert.ok(sent, 'EPSV went out while the .part was still opening');
});

test('a .part that cannot be opened fails its file after EPSV; the next file is downloaded', async (t) => {
  const { base, client } = await serve(t);
  // A folder in the `.part`'s place: `open` fails (EISDIR) while the EPSV is under way.
  mkdirSync(join(base, 'local', 'a.BUFR.part'));
  await assert.rejects(
    client.downloadFile('/radar/a.BUFR', join(base, 'local'), { expectedSize: 70_000 }),
    LocalIoError,
  );
  const path = await client.downloadFile('/radar/b.BUFR', join(base, 'local'), { expectedSize: 50_000 });
  assert.deepEqual(readFileSync(path), Buffer.alloc(50_000, 2));
});
