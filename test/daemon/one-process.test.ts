/**
 * One daemon process per SQLite ledger: a copied config started twice must not run every
 * callback twice. Both daemons are real child processes (`radarlib daemon`'s code path) on one
 * embedded FTP server; `radarlib status` and `retry-failed` run while the first one works.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { statusReport } from '../../src/cli/commands/status.js';
import { retryFailed } from '../../src/cli/commands/retry-failed.js';
import { LedgerLockedError } from '../../src/errors.js';
import { openLedger } from '../../src/ledger/open.js';
import { sha256File } from '../helpers/hash.js';
import { listLocal, payload, rig, writeYamlConfig } from './helpers/setup.js';
import { startTsxChild } from '../helpers/child-process.js';

const CHILD = fileURLToPath(new URL('./fixtures/daemon-child.ts', import.meta.url));
const FILES = 10;
const SIZE = 400_000;

function lines(file: string, kind: string): Map<string, number> {
  const seen = new Map<string, number>();
  if (!existsSync(file)) return seen;
  for (const l of readFileSync(file, 'utf8').split('\n')) {
    const [k, path] = l.split(' ');
    if (k === kind && path !== undefined) seen.set(path, (seen.get(path) ?? 0) + 1);
  }
  return seen;
}

test(
  'two daemons on one SQLite ledger: the second refuses to start, naming the file and the pid; status works',
  { timeout: 120_000 },
  async (t) => {
    const r = await rig(t);
    for (let i = 0; i < FILES; i++) r.put(`/data/vol${i}.BUFR`, payload(i, SIZE));
    const ledgerPath = join(r.local, '.radarlib', 'ledger.sqlite');
    const config = writeYamlConfig(r, { ledger: ledgerPath, maxConcurrentDownloads: 2 });
    const events = join(r.local, '..', 'events.log');
    const env = { CHILD_CONFIG: config, CHILD_EVENTS: events, RADARLIB_PASSWORD: r.server.password };

    // The first daemon works slowly (throttled after its first file), so it is surely running.
    const first = startTsxChild(CHILD, { ...env, CHILD_THROTTLE: '3' });
    t.after(() => first.proc.kill('SIGKILL'));
    await first.line('MID ');

    const second = startTsxChild(CHILD, { ...env, CHILD_MAX_ITERATIONS: '3' });
    const refused = await second.exit;
    assert.notEqual(refused.code, 0, 'the second daemon must not run');
    const err = second.stderr();
    assert.match(err, /RADARLIB_LEDGER_LOCKED/);
    assert.ok(err.includes(ledgerPath), `the error names the ledger file: ${err.slice(-1500)}`);
    assert.ok(err.includes(`pid ${first.proc.pid}`), `the error names the holder's pid: ${err.slice(-1500)}`);

    // The same in-process: a typed error with the holder's pid.
    await assert.rejects(openLedger(ledgerPath, { exclusive: true }), (e: unknown) => {
      assert.ok(e instanceof LedgerLockedError);
      assert.equal(e.path, ledgerPath);
      assert.equal(e.holderPid, first.proc.pid);
      return true;
    });

    // Operators' commands still work while the daemon runs.
    const report = await statusReport({ ledger: ledgerPath });
    assert.ok(report.counts.downloading + report.counts.processed + report.counts.ready >= 1);
    assert.equal(await retryFailed({ ledger: ledgerPath }), 0);

    // Let the first daemon finish its work at full speed: stop it, run it again to the end.
    first.proc.kill('SIGTERM');
    assert.equal((await first.exit).code, 0, first.stderr().slice(-3000));
    const finish = startTsxChild(CHILD, { ...env, CHILD_MAX_ITERATIONS: '3' });
    assert.equal((await finish.exit).code, 0, finish.stderr().slice(-3000));

    const dl = lines(events, 'DL');
    const cb = lines(events, 'CB');
    for (let i = 0; i < FILES; i++) {
      const p = `/data/vol${i}.BUFR`;
      assert.equal(dl.get(p), 1, `${p} committed exactly once`);
      assert.equal(cb.get(p), 1, `${p} handed to exactly one callback`);
      assert.equal(
        sha256File(join(r.local, `vol${i}.BUFR`)),
        sha256File(join(r.root, 'data', `vol${i}.BUFR`)),
      );
    }
    assert.deepEqual(
      listLocal(r.local).filter((f) => f.endsWith('.part')),
      [],
    );
  },
);
