/**
 * `maxConcurrentDownloads: 'auto'`: the daemon grows its transfers with the measured throughput,
 * and a server's connection cap (421) is a signal, never a failed file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FTPDaemon } from '../../src/daemon/daemon.js';
import { applyEnvOverrides, resolveDaemonConfig } from '../../src/daemon/config.js';
import { sha256File as sha256 } from '../helpers/hash.js';
import { listLocal, payload, rig } from './helpers/setup.js';

test("config: 'auto' from YAML or RADARLIB_MAX_CONCURRENT_DOWNLOADS; the pool cap follows the auto cap", () => {
  const base = { host: 'h', remotePath: '/d', localDir: '/tmp/x' };
  const auto = resolveDaemonConfig({ ...base, maxConcurrentDownloads: 'auto', autoConcurrencyCap: 12 });
  assert.equal(auto.sources[0]?.maxConcurrentDownloads, 'auto');
  assert.equal(auto.sources[0]?.maxConnections, 12);
  const fromEnv = applyEnvOverrides(base, { RADARLIB_MAX_CONCURRENT_DOWNLOADS: 'auto' });
  assert.equal(resolveDaemonConfig(fromEnv.config).sources[0]?.maxConcurrentDownloads, 'auto');
  const number = applyEnvOverrides(base, { RADARLIB_MAX_CONCURRENT_DOWNLOADS: '7' });
  assert.equal(resolveDaemonConfig(number.config).sources[0]?.maxConcurrentDownloads, 7);
  assert.throws(
    () => resolveDaemonConfig({ ...base, maxConcurrentDownloads: 'fast' }),
    /maxConcurrentDownloads/,
  );
});

test("'auto' against a server capped at 3 connections: every file once, no failure", async (t) => {
  const r = await rig(t, { maxConnections: 3 });
  for (let i = 0; i < 24; i++)
    r.put(`/data/f${String(i).padStart(2, '0')}.BUFR`, payload(i, 40_000 + i * 997));
  const failed: string[] = [];
  const d = new FTPDaemon(r.config({ maxConcurrentDownloads: 'auto' }));
  d.on('failed', (e) => failed.push(e.remotePath));
  t.after(() => d.stop());
  const got = await d.runOnce();
  assert.equal(got.length, 24);
  assert.deepEqual(failed, []);
  const names = listLocal(r.local);
  assert.equal(names.length, 24);
  for (const n of names) assert.equal(sha256(join(r.local, n)), sha256(join(r.root, 'data', n)));
});
