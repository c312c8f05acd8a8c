/**
 * `startTime` backfills: on a radar date tree, the window starts at `startTime` even when that
 * is older than `lookback`; without it, `lookback` bounds the walk. Against the embedded server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FTPDaemon } from '../../src/daemon/daemon.js';
import type { FTPDaemonConfig } from '../../src/daemon/config.js';
import { radarTreeFolder } from '../../src/radar/tree.js';
import { startEmbeddedFtp } from '../helpers/embedded-ftp.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function stamp(t: Date): string {
  return t.toISOString().replace(/[-:]|\.\d{3}/g, '');
}

async function publish(root: string, times: Date[]): Promise<string[]> {
  const names: string[] = [];
  for (const time of times) {
    const dir = join(root, radarTreeFolder('/L2', 'RMA1', time));
    await mkdir(dir, { recursive: true });
    const name = `RMA1_0315_01_DBZH_${stamp(time)}.BUFR`;
    await writeFile(join(dir, name), Buffer.alloc(2048, 7));
    names.push(name);
  }
  return names;
}

async function mirror(extra: Partial<FTPDaemonConfig>): Promise<string[]> {
  const root = await mkdtemp(join(tmpdir(), 'radarlib-start-time-'));
  const now = Math.floor(Date.now() / 60_000) * 60_000;
  const [old, recent] = await publish(join(root, 'served'), [new Date(now - 3 * DAY), new Date(now - HOUR)]);
  const server = await startEmbeddedFtp({ root: join(root, 'served') });
  try {
    const daemon = new FTPDaemon({
      host: server.host,
      port: server.port,
      username: server.user,
      password: server.password,
      remotePath: '/L2',
      layout: 'radar-tree',
      localDir: join(root, 'local'),
      minAge: 0,
      lookback: 86_400,
      ...extra,
    });
    await daemon.runOnce();
    await daemon.runOnce();
    await daemon.stop();
    const got = (await readdir(join(root, 'local')).catch(() => [])).filter((n) => n.endsWith('.BUFR'));
    assert.ok(
      old !== undefined && recent !== undefined && got.includes(recent),
      `the recent file was not taken: ${got}`,
    );
    return got.map((n) => (n === old ? 'old' : n === recent ? 'recent' : n)).sort();
  } finally {
    await server.stop();
    await rm(root, { recursive: true, force: true });
  }
}

test('without startTime, lookback (1 day) bounds the walk: a 3-day-old volume is not taken', async () => {
  assert.deepEqual(await mirror({}), ['recent']);
});

test('startTime 4 days ago backfills past lookback (1 day): the 3-day-old volume is taken too', async () => {
  const startTime = new Date(Date.now() - 4 * DAY).toISOString();
  assert.deepEqual(await mirror({ startTime }), ['old', 'recent']);
});
