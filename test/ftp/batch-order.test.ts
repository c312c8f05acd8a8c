/**
 * A batch of several transfers at once starts its files largest and smallest alternately when
 * every size is known
 * (src/ftp/batch-order.ts): the listed entries', or the sizes of the paths the client has just
 * listed (`listFiles` then `downloadFiles`, the README's way). The order the server received the
 * RETRs in is the evidence; one connection makes it the order the batch started them in.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AsyncFTPClient } from '../../src/ftp/index.js';
import { startOrder } from '../../src/ftp/batch-order.js';
import { startEmbeddedFtp, type EmbeddedFtpServer } from '../helpers/embedded-ftp.js';
import { loginTo } from '../helpers/ftp-login.js';

/** Sizes in path order: neither sorted nor reversed. */
const SIZES: Record<string, number> = {
  'a.BUFR': 3000,
  'b.BUFR': 9000,
  'c.BUFR': 1000,
  'd.BUFR': 7000,
  'e.BUFR': 5000,
};
/** Largest and smallest alternately: 9000, 1000, 7000, 3000, 5000. */
const BY_SIZE = ['/radar/b.BUFR', '/radar/c.BUFR', '/radar/d.BUFR', '/radar/a.BUFR', '/radar/e.BUFR'];
const BY_PATH = ['/radar/a.BUFR', '/radar/b.BUFR', '/radar/c.BUFR', '/radar/d.BUFR', '/radar/e.BUFR'];

void describe('batch start order', () => {
  let base: string;
  let server: EmbeddedFtpServer;
  before(async () => {
    base = mkdtempSync(join(tmpdir(), 'radarlib-batch-order-'));
    mkdirSync(join(base, 'srv', 'radar'), { recursive: true });
    for (const [name, size] of Object.entries(SIZES))
      writeFileSync(join(base, 'srv', 'radar', name), Buffer.alloc(size, 7));
    server = await startEmbeddedFtp({ root: join(base, 'srv') });
  });
  after(async () => {
    await server.stop();
    rmSync(base, { recursive: true, force: true });
  });

  /** The RETRs the server got while `run` ran. */
  async function retrs(run: (client: AsyncFTPClient) => Promise<void>): Promise<string[]> {
    const from = server.commands.length;
    // one connection: the server sees the files in the order the batch started them
    const client = new AsyncFTPClient({ ...loginTo(server), maxConnections: 1 });
    try {
      await run(client);
    } finally {
      await client.disconnect();
    }
    return server.commands
      .slice(from)
      .filter((c) => c.directive === 'RETR')
      .map((c) => c.arg ?? '');
  }

  void test('paths the client just listed: largest and smallest alternately', async () => {
    const got = await retrs(async (client) => {
      const paths = await client.listFiles('/radar');
      assert.deepEqual(paths, BY_PATH);
      const batch = await client.downloadFiles(paths, join(base, 'listed'), { maxConcurrent: 3 });
      assert.equal(batch.failures.length, 0);
      // results stay in the caller's order
      assert.deepEqual(
        batch.map((p) => p.slice(p.lastIndexOf('/'))),
        BY_PATH.map((p) => p.slice(p.lastIndexOf('/'))),
      );
    });
    assert.deepEqual(got, BY_SIZE);
  });

  void test("'auto' over listed entries: largest and smallest alternately", async () => {
    const got = await retrs(async (client) => {
      const entries = await client.listEntries('/radar');
      const batch = await client.downloadFiles(entries, join(base, 'auto'), { maxConcurrent: 'auto' });
      assert.equal(batch.failures.length, 0);
    });
    assert.deepEqual(got, BY_SIZE);
  });

  void test('sizes unknown (paths never listed) or one transfer at a time: the caller’s order', async () => {
    const unlisted = await retrs(async (client) => {
      await client.downloadFiles(BY_PATH, join(base, 'unlisted'), { maxConcurrent: 3 });
    });
    assert.deepEqual(unlisted, BY_PATH);
    const one = await retrs(async (client) => {
      const paths = await client.listFiles('/radar');
      await client.downloadFiles(paths, join(base, 'one'), { maxConcurrent: 1 });
    });
    assert.deepEqual(one, BY_PATH);
  });

  void test('startOrder: ties keep the caller’s order; one unknown size keeps it all', () => {
    const sizes = new Map([
      ['/x', 5],
      ['/y', 9],
      ['/z', 5],
    ]);
    assert.deepEqual(
      startOrder(['/x', '/y', '/z'], (p) => sizes.get(p)),
      [1, 2, 0],
    );
    assert.deepEqual(
      startOrder(['/x', '/z'], (p) => sizes.get(p)),
      [0, 1],
    );
    assert.deepEqual(
      startOrder(['/x', '/w', '/y'], (p) => sizes.get(p)),
      [0, 1, 2],
    );
    assert.deepEqual(startOrder(['/x', '/y'], undefined), [0, 1]);
  });
});
