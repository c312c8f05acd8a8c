/**
 * A data connection that ends before the server's `150` is read: a transfer of no bytes (an
 * empty file, or a `.part` that already holds every byte, resumed with REST at its end). The
 * server closes the data connection at once; on a WAN, or through a relay that delays the control
 * connection, its FIN arrives before the `150`. The download must finish with the file intact, not
 * wait for bytes that will never come until the data-stall timeout fails it: the daemon retried
 * such a file until it was parked, its complete `.part` left behind (CI failure of
 * daemon-faults "the server is down at start and restarts twice mid-cycle": a restart cut a
 * transfer after its last byte, before its `226`).
 *
 * Embedded server behind the fault proxy, which relays a data connection's end at once and each
 * control reply `DELAY_MS` late, so the end always comes first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsyncFTPClient } from '../../src/ftp/client.js';
import { startEmbeddedFtp } from '../helpers/embedded-ftp.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { sha256File, sha256Hex } from '../helpers/hash.js';
import { scaled } from '../helpers/wait.js';

/** Control replies are relayed this late; a data connection's end is not delayed. */
const DELAY_MS = 100;

test('a transfer whose data connection ends before the 150 completes (empty file, .part already whole)', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'radarlib-rel-ends-first-'));
  const root = join(base, 'srv');
  const local = join(base, 'local');
  mkdirSync(root);
  mkdirSync(local);
  const whole = Buffer.alloc(30_000);
  for (let i = 0; i < whole.length; i++) whole[i] = (i * 31 + 7) & 255;
  writeFileSync(join(root, 'whole.BUFR'), whole);
  writeFileSync(join(root, 'short.BUFR'), whole);
  writeFileSync(join(root, 'empty.BUFR'), Buffer.alloc(0));
  // Left by attempts cut before their 226: every byte, and all but the last one.
  writeFileSync(join(local, 'whole.BUFR.part'), whole);
  writeFileSync(join(local, 'short.BUFR.part'), whole.subarray(0, whole.length - 1));

  const server = await startEmbeddedFtp({ root });
  const proxy = await startFaultProxy({
    upstreamHost: server.host,
    upstreamPort: server.port,
    delayMs: DELAY_MS,
  });
  const client = new AsyncFTPClient({
    host: proxy.host,
    port: proxy.port,
    username: server.user,
    password: server.password,
    timeouts: { connectMs: scaled(10_000), commandMs: scaled(10_000), dataStallMs: scaled(5000) },
  });
  t.after(async () => {
    client.destroy();
    await proxy.stop();
    await server.stop();
    rmSync(base, { recursive: true, force: true });
  });

  const entries = await client.listEntries('/');
  const outcome = new Map<string, string>();
  for (const name of ['whole.BUFR', 'empty.BUFR', 'short.BUFR']) {
    const entry = entries.find((e) => e.name === name);
    assert.ok(entry, `${name} listed: ${entries.map((e) => e.name).join(', ')}`);
    const progress: number[] = [];
    try {
      await client.downloadFile(entry, local, { onProgress: (n) => progress.push(n) });
      outcome.set(name, 'ok');
    } catch (err) {
      outcome.set(name, `${(err as Error).message} (progress ${progress.join(',')})`);
    }
  }
  const seen = JSON.stringify({ outcome: Object.fromEntries(outcome), local: readdirSync(local).sort() });
  assert.deepEqual(
    Object.fromEntries(outcome),
    { 'whole.BUFR': 'ok', 'empty.BUFR': 'ok', 'short.BUFR': 'ok' },
    seen,
  );
  assert.deepEqual(readdirSync(local).sort(), ['empty.BUFR', 'short.BUFR', 'whole.BUFR'], seen);
  assert.equal(sha256File(join(local, 'whole.BUFR')), sha256Hex(whole));
  assert.equal(sha256File(join(local, 'short.BUFR')), sha256Hex(whole));
  assert.equal(sha256File(join(local, 'empty.BUFR')), sha256Hex(Buffer.alloc(0)));
  // Each file was asked for once: the whole .part was finished by a REST at its end, not fetched again.
  assert.deepEqual(Object.fromEntries(proxy.stats.retrByPath), {
    '/whole.BUFR': 1,
    '/empty.BUFR': 1,
    '/short.BUFR': 1,
  });
});
