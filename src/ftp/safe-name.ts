import { UnsafePathError } from '../errors.js';
import { remoteBaseName } from '../util/remote-path.js';

/**
 * Checks that a remote file name can become a local file name without leaving the target folder.
 *
 * Rejects what an FTP server (hostile or just odd) can send in a listing: empty names, `.` and
 * `..`, path separators (`/`, `\`), NUL, CR and LF, and names longer than most file systems accept.
 * Returns the name unchanged when it is safe; throws `UnsafePathError` naming it otherwise.
 */
export function assertSafeLocalName(name: string, remotePath: string = name): string {
  const reason = unsafeReason(name);
  if (reason !== null) throw new UnsafePathError(remotePath, reason);
  return name;
}

// 255 bytes is the name limit of ext4, xfs, btrfs and tmpfs.
const MAX_NAME_BYTES = 255;

function unsafeReason(name: string): string | null {
  if (name.length === 0) return 'empty name';
  if (name === '.' || name === '..') return 'refers to a folder, not a file';
  if (name.includes('/') || name.includes('\\')) return 'contains a path separator';
  if (/[\0\r\n]/.test(name)) return 'contains NUL, CR or LF';
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return `longer than ${MAX_NAME_BYTES} bytes`;
  return null;
}

/** Joins remote path parts with single slashes. */
export function joinRemote(dir: string, name: string): string {
  if (dir === '' || dir === '.') return name;
  return dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`;
}

/**
 * The local name a download of `remote` gets: `localName`, else the remote base name, checked.
 * A listed entry's own name must be safe too, and be the last part of its path: a hostile
 * listing must not get `../x` written as `x` over a legitimate file.
 */
export function localNameForDownload(
  remote: string | { path: string; name: string },
  localName?: string,
): string {
  const remotePath = typeof remote === 'string' ? remote : remote.path;
  if (typeof remote !== 'string') {
    assertSafeLocalName(remote.name, remotePath);
    if (remoteBaseName(remotePath) !== remote.name) {
      throw new UnsafePathError(
        remotePath,
        `listed name ${JSON.stringify(remote.name)} is not the path's last part`,
      );
    }
  }
  return assertSafeLocalName(localName ?? remoteBaseName(remotePath), remotePath);
}
