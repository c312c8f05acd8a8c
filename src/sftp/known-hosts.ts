/**
 * OpenSSH `known_hosts` as OpenSSH reads it (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"), with no I/O:
 *
 *   [@revoked|@cert-authority] host-patterns key-type base64-key [comment]
 *
 * Host patterns are comma-separated, may use `*` and `?`, may be negated with `!`, name a
 * non-standard port as `[host]:port`, or be one hashed entry `|1|base64(salt)|base64(HMAC-SHA1(salt,
 * name))` (`HashKnownHosts yes`, Debian's default). `@cert-authority` lines hold CA keys for host
 * certificates, which we do not use: they are skipped.
 */
import { createHash, createHmac } from 'node:crypto';

/** One parsed line of an OpenSSH known_hosts file. */
export interface KnownHostLine {
  marker: 'revoked' | 'cert-authority' | null;
  patterns: string;
  keyType: string;
  /** The public key blob (as sent in the SSH handshake). */
  key: Buffer;
}

/** What {@link checkHostKey} decided about a server's key, and why. */
export type HostKeyVerdict =
  | { kind: 'match' }
  | { kind: 'revoked' }
  /** The host is known, with other keys of the same type: the key changed (or an attack). */
  | { kind: 'mismatch'; knownFingerprints: string[] }
  /** No entry for this host (or only entries of other key types). */
  | { kind: 'unknown' };

/** Parses a known_hosts text; lines it cannot read are skipped, as OpenSSH skips them. */
export function parseKnownHosts(text: string): KnownHostLine[] {
  const lines: KnownHostLine[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let marker: KnownHostLine['marker'] = null;
    if (fields[0] === '@revoked') marker = 'revoked';
    else if (fields[0] === '@cert-authority') marker = 'cert-authority';
    if (marker !== null) fields.shift();
    const [patterns, keyType, keyBase64] = fields;
    if (patterns === undefined || keyType === undefined || keyBase64 === undefined) continue;
    const key = Buffer.from(keyBase64, 'base64');
    if (key.length === 0) continue;
    lines.push({ marker, patterns, keyType, key });
  }
  return lines;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** `SHA256:<base64 without padding>`, as `ssh-keygen -l` prints it. */
export function sha256Fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type written at the start of an SSH public key blob (`ssh-ed25519`, `ssh-rsa`...). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return '';
  const len = key.readUInt32BE(0);
  return key.subarray(4, 4 + len).toString('latin1');
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function hashedMatches(entry: string, name: string): boolean {
  // |1|salt|hash
  const parts = entry.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2] ?? '', 'base64');
  const expected = parts[3] ?? '';
  return createHmac('sha1', salt).update(name).digest('base64') === expected;
}

/** Whether a line's host patterns select `name` (a negated match wins over any positive one). */
export function patternsMatch(patterns: string, name: string): boolean {
  if (patterns.startsWith('|')) return hashedMatches(patterns, name);
  let matched = false;
  for (const pattern of patterns.split(',')) {
    const negated = pattern.startsWith('!');
    const glob = negated ? pattern.slice(1) : pattern;
    if (globToRegExp(glob).test(name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** Checks the key a server presented for `host:port` against known_hosts lines. */
export function checkHostKey(
  lines: readonly KnownHostLine[],
  host: string,
  port: number,
  key: Buffer,
): HostKeyVerdict {
  const name = knownHostsName(host, port);
  const type = keyTypeOf(key);
  const forHost = lines.filter((l) => l.marker !== 'cert-authority' && patternsMatch(l.patterns, name));
  if (forHost.some((l) => l.marker === 'revoked' && l.key.equals(key))) return { kind: 'revoked' };
  if (forHost.some((l) => l.marker === null && l.key.equals(key))) return { kind: 'match' };
  const sameType = forHost.filter((l) => l.marker === null && keyTypeOf(l.key) === type);
  if (sameType.length > 0) {
    return { kind: 'mismatch', knownFingerprints: sameType.map((l) => sha256Fingerprint(l.key)) };
  }
  return { kind: 'unknown' };
}

/**
 * The key types known for `host:port`, so the handshake can ask for those first (as OpenSSH
 * orders HostKeyAlgorithms): a server with an ed25519 and an RSA key, known here by its RSA key,
 * must not be refused as "unknown" because it offered ed25519.
 */
export function knownKeyTypes(lines: readonly KnownHostLine[], host: string, port: number): string[] {
  const name = knownHostsName(host, port);
  const types = lines
    .filter((l) => l.marker === null && patternsMatch(l.patterns, name))
    .map((l) => keyTypeOf(l.key));
  return [...new Set(types)];
}
