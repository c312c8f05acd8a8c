/**
 * `AsyncFTPClient.commandsSent`: the commands the client's connections wrote, which the daemon
 * shows as its server load per source. Checked against the server's own command log.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AsyncFTPClient, FtpReplyError } from '../../src/ftp/index.js';
import { startEmbeddedFtp } from '../helpers/embedded-ftp.js';

test('commandsSent counts every command the server received: logins, listings, downloads, refusals', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'radarlib-commands-'));
  const root = join(base, 'srv');
  mkdirSync(join(root, 'radar'), { recursive: true });
  for (let i = 0; i < 3; i++) writeFileSync(join(root, 'radar', `f${i}.BUFR`), Buffer.alloc(1000 + i, i));
  const server = await startEmbeddedFtp({ root });
  t.after(async () => {
    await server.stop();
    rmSync(base, { recursive: true, force: true });
  });
  const client = new AsyncFTPClient({
    host: server.host,
    port: server.port,
    username: server.user,
    password: server.password,
    maxConnections: 3,
  });
  assert.equal(client.commandsSent, 0, 'nothing sent before connecting');
  const files = await client.listFiles('/radar');
  const batch = await client.downloadFiles(files, join(base, 'local'), { maxConcurrent: 3 });
  assert.equal(batch.failures.length, 0);
  await assert.rejects(client.listDir('/missing'), FtpReplyError);
  // Several connections logged in (each login is several commands) and every file was fetched.
  assert.ok(server.commands.filter((c) => c.directive === 'USER').length > 1, 'several connections');
  assert.equal(server.commands.filter((c) => c.directive === 'RETR').length, 3);
  assert.equal(client.commandsSent, server.commands.length, 'the same count as the server log');
  await client.disconnect();
});
