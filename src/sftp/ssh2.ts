/**
 * ssh2, loaded with `require` when the first SFTP connection opens. Importing it costs every
 * process that merely could use SFTP ~50–100 ms of CPU (its protocol modules, asn1, tweetnacl,
 * bcrypt-pbkdf), and ssh2 is CommonJS, so an ESM `import` adds Node's scan of its exports on top:
 * `import 'radarlib'` and a daemon with only FTP sources never need it.
 *
 * Types still come from `import type ... from 'ssh2'` (erased). Take ssh2's values from here
 * only: one ESM import of it anywhere loads it at start again.
 */
import { createRequire } from 'node:module';
import type * as Ssh2 from 'ssh2';

let ssh2: typeof Ssh2 | undefined;

/** ssh2's exports; the first call loads the package. */
export function loadSsh2(): typeof Ssh2 {
  ssh2 ??= createRequire(import.meta.url)('ssh2') as typeof Ssh2;
  return ssh2;
}
