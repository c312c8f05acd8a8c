/** SHA-256 as hex, of bytes or of a file: how tests compare what was served with what arrived. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function sha256File(file: string): string {
  return sha256Hex(readFileSync(file));
}
