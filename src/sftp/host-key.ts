/**
 * Deciding whether to trust the key an SSH server presents, before anything secret is sent.
 *
 * Default: `~/.ssh/known_hosts` (home = `os.homedir()`), as OpenSSH with
 * `StrictHostKeyChecking yes`: an unknown host or a changed key refuses the connection. A
 * `knownHosts` file replaces that file; a pinned `SHA256:` fingerprint replaces both. Accepting
 * any key needs the explicit `acceptAnyHostKey` option and logs a warning.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import {
  checkHostKey,
  knownKeyTypes,
  parseKnownHosts,
  sha256Fingerprint,
  type HostKeyVerdict,
  type KnownHostLine,
} from './known-hosts.js';

export type HostKeyPolicy =
  | { kind: 'known-hosts'; file: string }
  | { kind: 'fingerprint'; fingerprint: string }
  | { kind: 'accept-any' };

export interface HostKeyOptions {
  knownHosts?: string;
  hostKeyFingerprint?: string;
  acceptAnyHostKey?: boolean;
}

export function defaultKnownHostsFile(): string {
  return join(homedir(), '.ssh', 'known_hosts');
}

/** Validates the options (only one way to check) and names the one to use. */
export function resolveHostKeyPolicy(options: HostKeyOptions): HostKeyPolicy {
  const given = [
    options.knownHosts !== undefined,
    options.hostKeyFingerprint !== undefined,
    options.acceptAnyHostKey === true,
  ].filter(Boolean).length;
  if (given > 1) {
    throw new InvalidArgumentError(
      'knownHosts',
      'give only one of knownHosts, hostKeyFingerprint and acceptAnyHostKey',
    );
  }
  if (options.acceptAnyHostKey === true) return { kind: 'accept-any' };
  if (options.hostKeyFingerprint !== undefined) {
    const fp = options.hostKeyFingerprint.trim();
    if (!/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(fp)) {
      throw new InvalidArgumentError(
        'hostKeyFingerprint',
        `expected SHA256:<43 base64 characters> as ssh-keygen -lf prints it, got ${JSON.stringify(fp)}`,
      );
    }
    return { kind: 'fingerprint', fingerprint: fp.replace(/=$/, '') };
  }
  return { kind: 'known-hosts', file: options.knownHosts ?? defaultKnownHostsFile() };
}

export interface HostKeyCheck {
  /** Called by the handshake with the raw key; true to go on. Records the verdict. */
  verify(key: Buffer): boolean;
  /** Key types to ask the server for first (those known_hosts holds for this host). */
  preferredKeyTypes: string[];
  /** Why the last `verify` refused, or null. */
  refusal: { verdict: Exclude<HostKeyVerdict['kind'], 'match'>; fingerprint: string; detail: string } | null;
}

/** RSA keys are stored as `ssh-rsa` in known_hosts but negotiated as rsa-sha2-512/256. */
function algorithmsFor(keyType: string): string[] {
  return keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [keyType];
}

function readKnownHosts(file: string): KnownHostLine[] {
  try {
    return parseKnownHosts(readFileSync(file, 'utf8'));
  } catch (err) {
    // A missing file is "no host known" (OpenSSH says the same); anything else is a real error.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** One check for one connection attempt (known_hosts is read again each time, as ssh does). */
export function makeHostKeyCheck(policy: HostKeyPolicy, host: string, port: number): HostKeyCheck {
  const lines = policy.kind === 'known-hosts' ? readKnownHosts(policy.file) : [];
  const check: HostKeyCheck = {
    preferredKeyTypes: knownKeyTypes(lines, host, port).flatMap(algorithmsFor),
    refusal: null,
    verify(key) {
      const fingerprint = sha256Fingerprint(key);
      if (policy.kind === 'accept-any') return true;
      if (policy.kind === 'fingerprint') {
        if (fingerprint === policy.fingerprint) return true;
        check.refusal = {
          verdict: 'mismatch',
          fingerprint,
          detail: `does not match the pinned ${policy.fingerprint}`,
        };
        return false;
      }
      const verdict = checkHostKey(lines, host, port, key);
      switch (verdict.kind) {
        case 'match':
          return true;
        case 'revoked':
          check.refusal = { verdict: 'revoked', fingerprint, detail: `is marked @revoked in ${policy.file}` };
          return false;
        case 'mismatch':
          check.refusal = {
            verdict: 'mismatch',
            fingerprint,
            detail: `differs from the key in ${policy.file} (${verdict.knownFingerprints.join(', ')}): the server's key changed, or someone is in the middle`,
          };
          return false;
        case 'unknown':
          check.refusal = {
            verdict: 'unknown',
            fingerprint,
            detail: `host is not in ${policy.file}; add it with ssh-keyscan after checking the fingerprint, or pin hostKeyFingerprint`,
          };
          return false;
      }
    },
  };
  return check;
}
