/**
 * `listDir`'s `onDataEnd` (src/ftp/client.ts) against the embedded FTP server, through a relay
 * that holds the listing's `226` (test/helpers/reply-gate.ts): the entries reach the caller as
 * soon as the listing's data has ended, while the server's confirmation is still on its way;
 * `listDir` itself resolves only with the confirmed listing.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AsyncFTPClient, type DirEntry } from '../../src/ftp/index.js';
import { startEmbeddedFtp } from '../helpers/embedded-ftp.js';
import { startReplyGate } from '../helpers/reply-gate.js';
import { scaled, waitUntil } from '../helpers/wait.js';

test('onDataEnd gets the entries before the 226 reaches the client; listDir resolves after it', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'radarlib-list-early-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  mkdirSync(join(base, 'radar', '2026'), { recursive: true });
  writeFileSync(join(base, 'radar', 'a.BUFR'), 'volume');
  const server = await startEmbeddedFtp({ root: base });
  t.after(() => server.stop());
  const gate = await startReplyGate({
    upstreamHost: server.host,
    upstreamPort: server.port,
    holdListingOf: (path) => path === '/radar',
    maxHoldMs: scaled(30_000),
  });
  t.after(() => gate.stop());
  const client = new AsyncFTPClient({
    host: gate.host,
    port: gate.port,
    username: server.user,
    password: server.password,
    maxConnections: 1,
  });
  t.after(() => client.destroy());

  let early: DirEntry[] | undefined;
  let confirmed = false;
  const listing = client
    .listDir('/radar', { onDataEnd: (entries) => (early = entries) })
    .finally(() => (confirmed = true));
  await waitUntil('the entries at the data end', Date.now() + scaled(10_000), () => early, {
    intervalMs: 10,
    seen: () => `held replies ${gate.holding}; listings ${gate.listings.join(',')}`,
  });
  // (the server may send its 226 after the data end: it is held whenever it comes)
  await waitUntil(
    'the 226 held',
    Date.now() + scaled(10_000),
    () => (gate.holding === 1 ? true : undefined),
    10,
  );
  assert.equal(confirmed, false, 'listDir waits for the 226');
  gate.release();
  const entries = await listing;
  const names = (list: readonly DirEntry[]): string[] => list.map((e) => `${e.type} ${e.name}`).sort();
  assert.deepEqual(names(entries), ['dir 2026', 'file a.BUFR']);
  assert.deepEqual(names(early ?? []), names(entries), 'the same entries');
  assert.deepEqual(gate.released, ['release']);
});
