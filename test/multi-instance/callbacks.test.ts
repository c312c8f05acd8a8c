/**
 * Callbacks across instances when nothing fails: "at least once" is the promise after a crash,
 * but healthy instances must not run each other's callbacks. Two instances share a ledger, the
 * callback is slow (1.5 s, like a decode or an exec hook), and they poll often; every file's
 * callback must then run exactly once.
 *
 * Skips, saying why, when PostgreSQL is unreachable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { makeRadarDataset } from '../helpers/dataset.js';
import {
  LedgerProbe,
  countStates,
  describeRun,
  instanceConfig,
  readJsonLines,
  spawnInstance,
  startSourceServer,
  prepareRun,
  writeConfig,
} from './harness.js';
import { scaled, waitUntil } from '../helpers/wait.js';
import type { CallbackRecord } from './instance.js';

const FILES = 24;

test('healthy instances never run the same callback twice', { timeout: scaled(90_000) }, async (t) => {
  const run = await prepareRun(t, 'radarlib-multi-cb-');
  if (run === null) return;
  const { base, served, shared, out, schema, instances, held } = run;

  await makeRadarDataset(join(served, 'radar'), {
    volumes: FILES / 6,
    layout: 'flat',
    sizeMin: 20_000,
    sizeMax: 40_000,
  });
  // The embedded server is enough here: this is about the ledger, not the FTP server.
  const server = await startSourceServer('embedded', { root: served });
  held.server = server;
  const configPath = join(base, 'radarlib.json');
  writeConfig(
    configPath,
    instanceConfig({
      server,
      remotePath: '/radar',
      localDir: shared,
      ledgerUrl: run.ledgerUrl,
      leaseSeconds: 10,
      pollSeconds: 0.2,
      slots: 2,
    }),
  );
  const p = await LedgerProbe.connect(run.pgUrl, schema);
  held.probe = p;
  for (const name of ['A', 'B']) {
    instances.push(
      spawnInstance({ name, configPath, outDir: out, env: { MULTI_INSTANCE_CALLBACK_DELAY_MS: '1500' } }),
    );
  }
  await waitUntil(
    `all ${FILES} files processed`,
    Date.now() + scaled(60_000),
    async () => {
      const rows = await p.rows();
      return rows.length === FILES && countStates(rows).processed === FILES ? true : undefined;
    },
    { seen: () => describeRun(run) },
  );
  await Promise.all(instances.map((i) => i.stop(15_000)));

  const callbacks = instances.flatMap((i) =>
    readJsonLines<CallbackRecord>(join(out, `${i.name}.callbacks.jsonl`)),
  );
  const runs = new Map<string, string[]>();
  for (const cb of callbacks) runs.set(cb.remotePath, [...(runs.get(cb.remotePath) ?? []), cb.instance]);
  assert.equal(runs.size, FILES, 'every callback ran');
  const repeated = [...runs]
    .filter(([, who]) => who.length > 1)
    .map(([path, who]) => `${path} (${who.join(', ')})`);
  assert.deepEqual(
    repeated,
    [],
    'callbacks run by two healthy instances: each cycle dispatches every `downloaded` row (pendingCallbacks), including rows whose callback another live instance is running',
  );
});
