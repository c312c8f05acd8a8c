/**
 * Crash safety and graceful stop, with the daemon in a child process (`radarlib daemon`'s code
 * path) and the FTP server in this one, so the server outlives the child.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLedger } from '../../src/ledger/open.js';
import { countEvents } from '../helpers/event-log.js';
import { sha256File } from '../helpers/hash.js';
import { listLocal, payload, rig, writeYamlConfig, type Rig } from './helpers/setup.js';
import { startTsxChild, type TsxChild } from '../helpers/child-process.js';

const CHILD = fileURLToPath(new URL('./fixtures/daemon-child.ts', import.meta.url));
const FILES = 12;
const SIZE = 3_000_000;

const startChild = (env: Record<string, string>): TsxChild => startTsxChild(CHILD, env);

function writeConfig(r: Rig, extra: Record<string, unknown> = {}): string {
  return writeYamlConfig(r, {
    maxConcurrentDownloads: 3,
    backoff: { initialDelay: 0.01, maxDelay: 0.05 },
    ...extra,
  });
}

/** Every final (non-.part) local file is complete: same bytes as on the server. */
function assertNoPartialFinalFile(r: Rig): void {
  for (const f of listLocal(r.local)) {
    if (f.endsWith('.part') || f === 'events.log') continue;
    assert.equal(sha256File(join(r.local, f)), sha256File(join(r.root, 'data', f)), `${f} is complete`);
  }
}

async function putFiles(r: Rig): Promise<void> {
  for (let i = 0; i < FILES; i++) r.put(`/data/vol${String(i).padStart(2, '0')}.BUFR`, payload(i, SIZE));
}

test(
  'SIGKILL mid-download, restart: every file complete, once, no partial final file',
  { timeout: 120_000 },
  async (t) => {
    const r = await rig(t);
    await putFiles(r);
    const config = writeConfig(r);
    const eventsFile = join(r.local, '..', 'events.log');
    const env = { CHILD_CONFIG: config, CHILD_EVENTS: eventsFile, RADARLIB_PASSWORD: r.server.password };

    const first = startChild({ ...env, CHILD_THROTTLE: '15' });
    await first.line('MID ');
    first.proc.kill('SIGKILL');
    const died = await first.exit;
    assert.equal(died.signal, 'SIGKILL');

    // The crash left work in flight, and no final file is partial.
    assertNoPartialFinalFile(r);
    {
      const ledger = await openLedger(join(r.local, '.radarlib', 'ledger.sqlite'));
      const counts = await ledger.counts();
      await ledger.close();
      assert.ok(counts.downloading >= 1, `killed mid-download: ${JSON.stringify(counts)}`);
      assert.ok(counts.processed + counts.downloaded < FILES, 'not everything was done before the kill');
    }

    const second = startChild({ ...env, CHILD_MAX_ITERATIONS: '3' });
    const ended = await second.exit;
    assert.equal(ended.code, 0, second.stderr().slice(-3000));

    const local = listLocal(r.local);
    assert.deepEqual(
      local.filter((f) => f.endsWith('.part')),
      [],
      'no .part left',
    );
    assert.equal(local.length, FILES);
    assertNoPartialFinalFile(r);

    const ledger = await openLedger(join(r.local, '.radarlib', 'ledger.sqlite'));
    t.after(() => ledger.close());
    const rows = await ledger.recent({ limit: 1000 });
    assert.equal(rows.length, FILES, 'one ledger row per file: none recorded twice');
    for (const row of rows) {
      assert.equal(row.state, 'processed', row.remotePath);
      assert.equal(row.callbackError, null);
      assert.ok(row.localPath !== null && existsSync(row.localPath));
    }
    const { dl, cb } = countEvents(eventsFile);
    for (const row of rows) {
      assert.ok((dl.get(row.remotePath) ?? 0) <= 1, `${row.remotePath} committed at most once`);
      assert.ok((cb.get(row.remotePath) ?? 0) >= 1, `${row.remotePath} handed to the callback`);
    }
  },
);

test(
  'SIGTERM mid-download: exits 0 within the deadline, no partial final file',
  { timeout: 120_000 },
  async (t) => {
    const r = await rig(t);
    await putFiles(r);
    const config = writeConfig(r, { stopTimeout: 1 });
    const eventsFile = join(r.local, '..', 'events.log');
    const env = { CHILD_CONFIG: config, CHILD_EVENTS: eventsFile, RADARLIB_PASSWORD: r.server.password };

    const child = startChild({ ...env, CHILD_THROTTLE: '15' });
    await child.line('MID ');
    child.proc.kill('SIGTERM');
    const ended = await child.exit;
    assert.equal(ended.code, 0, child.stderr().slice(-3000));
    assert.match(child.stderr(), /"msg":"daemon stopped"/);
    assertNoPartialFinalFile(r);

    const ledger = await openLedger(join(r.local, '.radarlib', 'ledger.sqlite'));
    t.after(() => ledger.close());
    for (const row of await ledger.recent({ states: ['downloaded', 'processed'], limit: 1000 })) {
      assert.ok(
        row.localPath !== null && existsSync(row.localPath),
        `${row.remotePath} recorded and present`,
      );
    }
    const counts = await ledger.counts();
    assert.ok(counts.processed < FILES, 'stopped before the end');
    assert.equal(counts.failed, 0, 'a stop is not a failure');
  },
);
