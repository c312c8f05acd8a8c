/**
 * known_hosts as OpenSSH reads it: plain, wildcard, negated, `[host]:port`, hashed (`|1|`) and
 * `@revoked` entries. Keys are real ed25519 keys; hashed names are made with `ssh-keygen -H`'s
 * HMAC-SHA1 scheme, checked against ssh-keygen itself when it is installed.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkHostKey, parseKnownHosts, sha256Fingerprint } from '../../src/sftp/known-hosts.js';
import { ed25519KeyPair } from '../helpers/embedded-sftp.js';

function newKey(): { blob: Buffer; line: string } {
  const blob = ed25519KeyPair().parsed.getPublicSSH();
  return { blob, line: `ssh-ed25519 ${blob.toString('base64')}` };
}

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

const a = newKey();
const b = newKey();

const cases: { title: string; text: string; host: string; port: number; key: Buffer; expected: string }[] = [
  {
    title: 'plain name, port 22',
    text: `radar.example ${a.line}`,
    host: 'radar.example',
    port: 22,
    key: a.blob,
    expected: 'match',
  },
  {
    title: 'plain name does not cover another port',
    text: `radar.example ${a.line}`,
    host: 'radar.example',
    port: 2222,
    key: a.blob,
    expected: 'unknown',
  },
  {
    title: '[host]:port',
    text: `[radar.example]:2222 ${a.line}`,
    host: 'radar.example',
    port: 2222,
    key: a.blob,
    expected: 'match',
  },
  {
    title: 'one of several names',
    text: `other,radar.example,10.0.0.1 ${a.line}`,
    host: 'radar.example',
    port: 22,
    key: a.blob,
    expected: 'match',
  },
  {
    title: 'wildcard',
    text: `*.example ${a.line}`,
    host: 'radar.example',
    port: 22,
    key: a.blob,
    expected: 'match',
  },
  {
    title: 'negation wins',
    text: `*.example,!radar.example ${a.line}`,
    host: 'radar.example',
    port: 22,
    key: a.blob,
    expected: 'unknown',
  },
  {
    title: 'hashed name',
    text: `${hashed('radar.example')} ${a.line}`,
    host: 'radar.example',
    port: 22,
    key: a.blob,
    expected: 'match',
  },
  {
    title: 'hashed [host]:port',
    text: `${hashed('[127.0.0.1]:2222')} ${a.line}`,
    host: '127.0.0.1',
    port: 2222,
    key: a.blob,
    expected: 'match',
  },
  {
    title: 'hashed other name',
    text: `${hashed('other.example')} ${a.line}`,
    host: 'radar.example',
    port: 22,
    key: a.blob,
    expected: 'unknown',
  },
  {
    title: 'changed key of the same type',
    text: `radar.example ${a.line}`,
    host: 'radar.example',
    port: 22,
    key: b.blob,
    expected: 'mismatch',
  },
  {
    title: 'revoked key',
    text: `@revoked * ${a.line}\nradar.example ${a.line}`,
    host: 'radar.example',
    port: 22,
    key: a.blob,
    expected: 'revoked',
  },
  {
    title: 'comments, blanks and garbage are skipped; a CA line vouches for no host key',
    text: `# c\n\nnot-a-line\n@cert-authority * ${b.line}\nradar.example ${a.line} comment`,
    host: 'radar.example',
    port: 22,
    key: b.blob,
    expected: 'mismatch',
  },
];

for (const c of cases) {
  test(`known_hosts: ${c.title}`, () => {
    assert.equal(checkHostKey(parseKnownHosts(c.text), c.host, c.port, c.key).kind, c.expected);
  });
}

test('known_hosts: a mismatch names the known fingerprints', () => {
  const verdict = checkHostKey(parseKnownHosts(`radar.example ${a.line}`), 'radar.example', 22, b.blob);
  assert.deepEqual(verdict, { kind: 'mismatch', knownFingerprints: [sha256Fingerprint(a.blob)] });
});

test('known_hosts: hashed by ssh-keygen -H and fingerprints as ssh-keygen -l prints them', (t) => {
  if (spawnSync('ssh-keygen', ['-?']).error !== undefined) {
    t.skip('ssh-keygen is not installed (openssh-client)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'radarlib-kh-'));
  const file = join(dir, 'known_hosts');
  writeFileSync(file, `[127.0.0.1]:2222 ${a.line}\nradar.example ${b.line}\n`);
  assert.equal(spawnSync('ssh-keygen', ['-H', '-f', file]).status, 0);
  const text = readFileSync(file, 'utf8');
  assert.match(text, /^\|1\|/m);
  const lines = parseKnownHosts(text);
  assert.equal(checkHostKey(lines, '127.0.0.1', 2222, a.blob).kind, 'match');
  assert.equal(checkHostKey(lines, 'radar.example', 22, b.blob).kind, 'match');
  assert.equal(checkHostKey(lines, 'radar.example', 22, a.blob).kind, 'mismatch');
  const printed = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', file], { encoding: 'utf8' }).stdout;
  assert.ok(printed.includes(sha256Fingerprint(a.blob)), printed);
});
