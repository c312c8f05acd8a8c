/**
 * How an instance finds the shared ledger without a per-instance config file: the systemd
 * template (deploy/radarlib@.service) runs every instance with one config and puts the database
 * URL, a secret, in an EnvironmentFile. Issue 8: the ledger is "selected by config
 * (`ledger: postgres://...` or `RADARLIB_LEDGER_URL`)".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadDaemonConfig } from '../../src/daemon/config.js';

const URL = 'postgres://radarlib:secret@db.internal:5432/radar?schema=network';
const BASE = { RADARLIB_HOST: 'ftp.example', RADARLIB_LOCAL_DIR: '/srv/radar/incoming' };

test('RADARLIB_LEDGER, the override of the `ledger` key (RADARLIB_<KEY>), selects the PostgreSQL ledger', async () => {
  const { config } = await loadDaemonConfig({ env: { ...BASE, RADARLIB_LEDGER: URL } });
  assert.equal(config.ledger, URL);
});

test('RADARLIB_LEDGER_URL selects the PostgreSQL ledger', async () => {
  const { config, warnings } = await loadDaemonConfig({ env: { ...BASE, RADARLIB_LEDGER_URL: URL } });
  assert.deepEqual(warnings, []);
  assert.equal(config.ledger, URL);
});
