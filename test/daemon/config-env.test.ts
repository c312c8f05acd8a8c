/**
 * src/daemon/config/env.ts: every key of the schema can be set from a `RADARLIB_*` variable, its
 * text read as the key's type. The table below is written out by hand; a key added to the schema
 * without a row here fails the last test, so the environment never silently lags the schema.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { applyEnvOverrides, envNameFor } from '../../src/daemon/config.js';
import { configSchemas } from '../../src/daemon/config/schema.js';
import { ConfigError } from '../../src/errors.js';

/** [dotted key, the variable's text, the value it sets]. */
const ROWS: [string, string, unknown][] = [
  // Per source (also settable per index: sources.N.<key>).
  ['name', 'radar-a', 'radar-a'],
  ['host', 'ftp.example', 'ftp.example'],
  ['protocol', 'sftp', 'sftp'],
  ['port', '2121', 2121],
  ['username', '0123', '0123'],
  ['password', '0123', '0123'],
  ['passwordFile', '/run/secret', '/run/secret'],
  ['secure', 'explicit', 'explicit'],
  ['tls.rejectUnauthorized', 'no', false],
  ['tls.caFile', '/ca.pem', '/ca.pem'],
  ['tls.servername', 'ftp.example', 'ftp.example'],
  ['epsv', 'off', false],
  ['sftp.privateKeyFile', '/k', '/k'],
  ['sftp.passphraseFile', '/p', '/p'],
  ['sftp.agent', 'true', true],
  ['sftp.knownHosts', '/kh', '/kh'],
  ['sftp.hostKeyFingerprint', 'SHA256:x', 'SHA256:x'],
  ['sftp.acceptAnyHostKey', '1', true],
  ['maxConnections', '3', 3],
  ['timeouts.connect', '1.5', 1.5],
  ['timeouts.command', '20', 20],
  ['timeouts.dataStall', '40', 40],
  ['remotePath', '/L2', '/L2'],
  ['localDir', '/data', '/data'],
  ['filePattern', '*.H5', '*.H5'],
  ['recursive', 'yes', true],
  ['layout', 'radar-tree', 'radar-tree'],
  ['lookback', '3600', 3600],
  ['startTime', '2025-10-20T00:00:00Z', '2025-10-20T00:00:00Z'],
  ['recentFolders', '4', 4],
  ['fullRescanEvery', '0', 0],
  ['radars', 'RMA1, RMA11', ['RMA1', 'RMA11']],
  ['strategies', '["0315"]', ['0315']],
  ['volumes', '01', ['01']],
  ['fields', 'DBZH,VRAD', ['DBZH', 'VRAD']],
  ['ignore', '', []],
  ['localLayout', '{radar}/{name}', '{radar}/{name}'],
  ['pollInterval', '15', 15],
  ['hotInterval', '0', 0],
  ['listingBudget', '90', 90],
  ['maxConcurrentDownloads', 'auto', 'auto'],
  ['autoConcurrencyCap', '8', 8],
  ['overlapSetup', 'on', true],
  ['minAge', '30', 30],
  ['settle', '2', 2],
  ['serverTimeZone', 'America/Argentina/Buenos_Aires', 'America/Argentina/Buenos_Aires'],
  ['verify', 'none', 'none'],
  ['maxAttempts', '9', 9],
  ['backoff.initialDelay', '5', 5],
  ['backoff.maxDelay', '60', 60],
  ['backoff.multiplier', '3', 3],
  ['backoff.jitter', '0', 0],
  // Process-wide.
  ['ledger', 'postgres://db/x', 'postgres://db/x'],
  ['callbackConcurrency', '4', 4],
  ['exec.command', './hook.sh {path}', './hook.sh {path}'],
  ['exec.timeout', '60', 60],
  ['exec.env', 'PGHOST, PGUSER', ['PGHOST', 'PGUSER']],
  ['http.host', '0.0.0.0', '0.0.0.0'],
  ['http.port', '8080', 8080],
  ['http.token', 's3cret', 's3cret'],
  ['http.tokenFile', '/t', '/t'],
  ['http.insecure', 'true', true],
  ['logLevel', 'debug', 'debug'],
  ['stopTimeout', '10', 10],
  ['leaseDuration', '120', 120],
];

function valueAt(config: Record<string, unknown>, key: string): unknown {
  return key.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], config);
}

test('each key is set from its variable, read as its type', () => {
  for (const [key, text, expected] of ROWS) {
    const name = envNameFor(key);
    const { config, applied, warnings } = applyEnvOverrides({}, { [name]: text });
    assert.deepEqual(warnings, [], name);
    assert.deepEqual(applied, [`${name} -> ${key}`]);
    assert.deepEqual(valueAt(config, key), expected, name);
  }
});

test('per-source keys are set by index too, creating the list and the mapping', () => {
  const { config } = applyEnvOverrides(
    { sources: [{ host: 'a' }] },
    { RADARLIB_SOURCES__2__BACKOFF__JITTER: '0.1', RADARLIB_SOURCES__0__SFTP__AGENT: '/run/agent.sock' },
  );
  const sources = config['sources'] as unknown[];
  assert.equal(sources.length, 3);
  assert.deepEqual(sources[0], { host: 'a', sftp: { agent: '/run/agent.sock' } });
  assert.equal(sources[1], undefined);
  assert.deepEqual(sources[2], { backoff: { jitter: 0.1 } });
});

test('groups, unknown names and prototype names are not keys', () => {
  for (const name of ['RADARLIB_BACKOFF', 'RADARLIB_SOURCES__0']) {
    assert.throws(
      () => applyEnvOverrides({}, { [name]: '1' }),
      (e: unknown) => e instanceof ConfigError && e.message.includes(`${name}__<KEY>`),
    );
  }
  for (const name of [
    'RADARLIB_CONSTRUCTOR',
    'RADARLIB_TLS__NOPE',
    'RADARLIB_HOST__X',
    'RADARLIB_SOURCES__X',
  ]) {
    assert.deepEqual(applyEnvOverrides({}, { [name]: '1' }).warnings, [
      `${name} names no config key; ignored`,
    ]);
  }
});

/** Every leaf key of a zod object schema, dotted (`backoff.initialDelay`). */
function leafKeys(schema: z.ZodType, prefix = ''): string[] {
  let s: z.ZodType = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodPrefault) {
    s = s.unwrap() as z.ZodType;
  }
  if (!(s instanceof z.ZodObject)) return [prefix];
  return Object.entries(s.shape as Record<string, z.ZodType>).flatMap(([k, v]) =>
    leafKeys(v, prefix === '' ? k : `${prefix}.${k}`),
  );
}

test('the table covers every key of the schema', () => {
  const keys = [...new Set([...leafKeys(configSchemas().file), ...leafKeys(configSchemas().source)])]
    .filter((k) => k !== 'sources')
    .sort();
  assert.deepEqual([...ROWS.map(([k]) => k)].sort(), keys);
});
