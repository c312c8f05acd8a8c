/**
 * Readiness rows the embedded server can play in the default `npm test`: a file deleted after it
 * was listed (vanished, not failed), a 251-byte name (its `.part` must still fit in 255 bytes),
 * and a non-BUFR `verify` function that says no (never committed, never a callback).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FTPDaemon } from '../../src/daemon/daemon.js';
import type { FailedEvent } from '../../src/daemon/daemon.js';
import { sha256File } from '../helpers/hash.js';
import { scaled, waitUntil } from '../helpers/wait.js';
import { listLocal, payload, rig } from '../daemon/helpers/setup.js';

test('a file deleted on the server after it was listed is vanished: no retries, no failure', async (t) => {
  const r = await rig(t);
  r.put('/data/stays.BUFR', payload(1, 5000));
  r.put('/data/goes.BUFR', payload(2, 5000));
  const calls: string[] = [];
  const failures: FailedEvent[] = [];
  // A long settle: both files wait as `seen` after the first listing.
  const d = new FTPDaemon(r.config({ minAge: 3600, settle: 0.3 }), {
    onFileDownloaded: (_p, info) => void calls.push(info.remotePath),
  });
  d.on('retry', (e) => failures.push(e));
  d.on('failed', (e) => failures.push(e));
  t.after(() => d.stop());
  assert.deepEqual(await d.runOnce(), []);
  rmSync(join(r.root, 'data', 'goes.BUFR'));
  await new Promise((res) => setTimeout(res, 400));
  const got = await d.runOnce();
  assert.deepEqual(
    got.map((x) => x.remotePath),
    ['/data/stays.BUFR'],
  );
  const counts = await d.ledger!.counts();
  assert.equal(counts.vanished, 1);
  assert.equal(counts.failed, 0);
  assert.deepEqual(failures, [], 'no retry, no failure for a vanished file');
  assert.deepEqual(calls, ['/data/stays.BUFR']);
  assert.deepEqual(listLocal(r.local), ['stays.BUFR']);
});

test('a 251-byte name downloads: its .part name stays short', async (t) => {
  const r = await rig(t);
  const name = `${'R'.repeat(246)}.BUFR`;
  assert.equal(Buffer.byteLength(name), 251);
  r.put(`/data/${name}`, payload(3, 20_000));
  const d = new FTPDaemon(r.config());
  t.after(() => d.stop());
  const got = await d.runOnce();
  assert.equal(got.length, 1);
  assert.equal(sha256File(join(r.local, name)), sha256File(join(r.root, 'data', name)));
  assert.deepEqual(
    listLocal(r.local).filter((f) => f.endsWith('.part')),
    [],
  );
});

test('verify: a file the check refuses is never committed nor handed to a callback', async (t) => {
  const r = await rig(t);
  r.put('/data/half.BUFR', payload(4, 3000));
  const calls: string[] = [];
  let checks = 0;
  const d = new FTPDaemon(
    r.config({
      verify: () => {
        checks++;
        return 'trailer missing';
      },
    }),
    { onFileDownloaded: (p) => void calls.push(p) },
  );
  t.after(() => d.stop());
  assert.deepEqual(await d.runOnce(), []);
  assert.ok(checks >= 1);
  assert.deepEqual(calls, []);
  assert.equal(existsSync(join(r.local, 'half.BUFR')), false, 'no final file');
  const [row] = await d.ledger!.recent({ limit: 5 });
  assert.equal(row?.state, 'seen', 'waits as a file still growing');
  assert.equal(row?.attempts, 0, 'not a failed attempt');
  assert.match(row?.lastError ?? '', /RADARLIB_INCOMPLETE_FILE.*trailer missing/);
});

test('without hot rounds, a file is listed again when its settle period ends, not at the next poll', async (t) => {
  const r = await rig(t);
  r.put('/data/fresh.BUFR', payload(5, 8000));
  const calls: string[] = [];
  // Polls an hour apart, no hot rounds: only the ledger's settleDueAt can bring the file in soon.
  const d = new FTPDaemon(r.config({ minAge: 3600, settle: 1, pollInterval: 3600, hotInterval: 0 }), {
    onFileDownloaded: (_p, info) => void calls.push(info.remotePath),
  });
  t.after(() => d.stop());
  const running = d.run();
  await waitUntil('the settled file’s callback', Date.now() + scaled(15_000), () =>
    calls.length > 0 ? true : undefined,
  );
  const [row] = await d.ledger!.recent({ limit: 1 });
  await d.stop();
  await running;
  assert.deepEqual(calls, ['/data/fresh.BUFR']);
  assert.equal(sha256File(join(r.local, 'fresh.BUFR')), sha256File(join(r.root, 'data', 'fresh.BUFR')));
  // The server was asked for the file once, from its start.
  assert.deepEqual(
    r.server.commands.filter((c) => c.directive === 'RETR').map((c) => c.arg),
    ['/data/fresh.BUFR'],
  );
  assert.deepEqual(
    r.server.commands.filter((c) => c.directive === 'REST' && c.arg !== '0'),
    [],
  );
  assert.ok(row !== undefined && row.readyAt !== null && row.stableSince !== null);
  assert.ok(row.readyAt - row.stableSince >= 1000, 'ready only after the settle period');
});
