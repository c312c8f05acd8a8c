/**
 * src/ftp/pool.ts, the hand-off of a released connection to a caller waiting for one, against
 * the embedded FTP server: the connection is counted busy from the moment it is handed over, so
 * a caller that asks meanwhile (before the waiter's continuation has run) waits for it instead
 * of opening one more connection than the cap.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FtpErrorContext } from '../../src/errors.js';
import { resolveServer } from '../../src/ftp/connection.js';
import { FtpConnectionPool } from '../../src/ftp/pool.js';
import { startEmbeddedFtp, type EmbeddedFtpServer } from '../helpers/embedded-ftp.js';

let root: string;
let server: EmbeddedFtpServer;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'radarlib-pool-hand-off-'));
  writeFileSync(join(root, 'a.BUFR'), 'volume');
  server = await startEmbeddedFtp({ root });
});
after(async () => {
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

const ctx = (): FtpErrorContext => ({ host: server.host, port: server.port, command: 'NOOP' });

function logins(): number {
  return server.commands.filter((c) => c.directive === 'USER').length;
}

/** Lets `n` turns of the microtask queue run. */
async function microtasks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

test('cap 1: a caller asking while the released connection is handed to a waiter never opens a second one', async () => {
  // every point from the release to well after the waiter has taken the connection
  for (let delay = 0; delay <= 24; delay++) {
    const pool = new FtpConnectionPool(
      resolveServer({
        host: server.host,
        port: server.port,
        username: server.user,
        password: server.password,
        maxConnections: 1,
      }),
    );
    const loginsBefore = logins();
    const openSeen: number[] = [];
    const note = async (): Promise<void> => void openSeen.push(pool.stats.open);
    let release!: () => void;
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const first = pool.use(async () => {
      holding();
      await new Promise<void>((resolve) => (release = resolve));
    }, ctx());
    await held;
    // queued now: the cap is taken
    const waiter = pool.use(note, ctx());
    release();
    await microtasks(delay);
    const third = pool.use(note, ctx());
    await Promise.all([first, waiter, third]);
    const stats = JSON.stringify(pool.stats);
    await pool.close();
    assert.equal(
      logins() - loginsBefore,
      1,
      `asked ${delay} microtasks after the release: one login (${stats})`,
    );
    assert.deepEqual(openSeen, [1, 1], `asked ${delay} microtasks after the release: open while used`);
  }
});
