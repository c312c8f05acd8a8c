/**
 * `protocol: sftp` in the daemon configuration: defaults, the `sftp:` block, and the passphrase
 * that stays in its file until the client is built.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { redactConfig, resolveDaemonConfig } from '../../src/daemon/config.js';
import { createSftpSourceClient } from '../../src/daemon/sftp-source.js';
import { ConfigError } from '../../src/errors.js';
import { silentLogger } from '../../src/observe/log.js';

const dir = mkdtempSync(join(tmpdir(), 'radarlib-sftp-config-'));

test('protocol sftp: port 22, a distinct source name, FTP sources unchanged', () => {
  const c = resolveDaemonConfig({ protocol: 'sftp', host: 'sftp.example', username: 'radar', localDir: dir });
  const s = c.sources[0];
  assert.equal(s?.protocol, 'sftp');
  assert.equal(s?.port, 22);
  assert.equal(s?.name, 'sftp://sftp.example');
  assert.deepEqual(s?.sftp, { agent: false, acceptAnyHostKey: false });
  const ftp = resolveDaemonConfig({ host: 'ftp.example', localDir: dir }).sources[0];
  assert.equal(ftp?.protocol, 'ftp');
  assert.equal(ftp?.port, 21);
  assert.equal(ftp?.name, 'ftp.example');
});

test('a wrong sftp key is a ConfigError naming it', () => {
  assert.throws(
    () => resolveDaemonConfig({ protocol: 'sftp', host: 'h', localDir: dir, sftp: { agent: 3 } }),
    (err: unknown) => err instanceof ConfigError && err.key === 'sftp.agent',
  );
  assert.throws(
    () => resolveDaemonConfig({ protocol: 'sftps', host: 'h', localDir: dir }),
    (err: unknown) => err instanceof ConfigError && err.key === 'protocol',
  );
});

test('the passphrase is read from its file by the client factory, never held in the config', () => {
  const passphraseFile = join(dir, 'passphrase');
  writeFileSync(passphraseFile, 'correct horse\n');
  const c = resolveDaemonConfig({
    protocol: 'sftp',
    host: 'h',
    username: 'radar',
    localDir: dir,
    sftp: { privateKeyFile: join(dir, 'id'), passphraseFile, hostKeyFingerprint: `SHA256:${'A'.repeat(43)}` },
  });
  assert.ok(!JSON.stringify(redactConfig(c)).includes('correct horse'));
  const source = c.sources[0];
  assert.ok(source !== undefined);
  assert.equal(createSftpSourceClient(source, silentLogger()).host, 'h');
  const missing = { ...source, sftp: { ...source.sftp, passphraseFile: join(dir, 'nope') } };
  assert.throws(
    () => createSftpSourceClient(missing, silentLogger()),
    (err: unknown) => err instanceof ConfigError && err.key === 'sftp.passphraseFile',
  );
});
