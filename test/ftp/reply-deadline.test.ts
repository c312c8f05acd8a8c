/**
 * The per-command reply deadline of connection.ts (`commandMs`), on the embedded server: armed
 * when a command is written, so a command basic-ftp refuses to write leaves nothing behind. (A
 * server that goes silent tripping it: test/reliability/slow-huge.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openConnection, resolveServer } from '../../src/ftp/connection.js';
import { startEmbeddedFtp } from '../helpers/embedded-ftp.js';
import { sleep } from '../helpers/wait.js';

const COMMAND_MS = 200;

test('a command refused before it is written (control characters) starts no reply deadline and is not counted', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'radarlib-deadline-'));
  const server = await startEmbeddedFtp({ root });
  t.after(async () => {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  });
  const resolved = resolveServer({
    host: server.host,
    port: server.port,
    username: server.user,
    password: server.password,
    timeouts: { connectMs: 10_000, commandMs: COMMAND_MS, dataStallMs: 10_000 },
  });
  const client = await openConnection(resolved);
  t.after(() => client.close());
  const sent = resolved.sent.commands;
  await assert.rejects(client.send('NOOP\r\nDELE x'), /control characters/);
  assert.equal(resolved.sent.commands, sent, 'nothing was written, nothing counted');
  // a deadline left armed would close the connection COMMAND_MS after the refusal
  await sleep(COMMAND_MS * 3);
  assert.equal(client.closed, false, 'the connection is still open');
  assert.equal((await client.send('NOOP')).code, 200);
  assert.equal(resolved.sent.commands, sent + 1);
});
