/**
 * Is a downloaded file complete? Checked on the `.part` before it takes its final name.
 *
 * Radar files can prove it themselves: a BUFR message (edition ≥ 2) declares its total length in
 * section 0 (octets 5–7) and ends with `7777`. With `verify: 'auto'` every file that starts with
 * `BUFR` must be a whole number of such messages filling the file exactly; other files pass (the
 * settle period and the size check are their guard). `'none'` skips the check; a function decides
 * itself. A file that fails is not committed and waits for its next listing as one still growing.
 */
import { open } from 'node:fs/promises';

/**
 * A user's check: true when complete; false, or a reason, when not. It must not modify the file.
 * @example verify: async (path) => (await stat(path)).size > 0 || 'empty'
 */
export type VerifyFunction = (
  localPath: string,
  info: { remotePath: string; size: number },
) => boolean | string | Promise<boolean | string>;

export type VerifyMode = 'auto' | 'none' | VerifyFunction;

const BUFR_MAGIC = Buffer.from('BUFR', 'latin1');
const END_MARK = Buffer.from('7777', 'latin1');
/** Section 0 of edition ≥ 2: `BUFR`, 3-octet total length, 1-octet edition. */
const SECTION0_BYTES = 8;
/** Messages walked per file at most (radar files hold one; bulletins a few hundred). */
const MAX_MESSAGES = 100_000;

/** Why a BUFR file is not whole, or null when it is (or is not BUFR at all). */
export async function bufrIncompleteness(path: string): Promise<string | null> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    const head = Buffer.alloc(SECTION0_BYTES);
    const read = async (buf: Buffer, at: number): Promise<number> =>
      (await handle.read(buf, 0, buf.length, at)).bytesRead;
    if ((await read(head, 0)) < 4 || !head.subarray(0, 4).equals(BUFR_MAGIC)) return null;
    let offset = 0;
    for (let n = 0; offset < size && n < MAX_MESSAGES; n++) {
      const got = await read(head, offset);
      if (got < SECTION0_BYTES) return `message ${n + 1} at byte ${offset}: section 0 cut short`;
      if (!head.subarray(0, 4).equals(BUFR_MAGIC)) {
        return n === 0 ? null : `byte ${offset}: ${size - offset} trailing bytes after message ${n}`;
      }
      const edition = head[7] ?? 0;
      if (edition < 2) return null; // editions 0–1 do not carry the total length: nothing to prove
      const length = head.readUIntBE(4, 3);
      if (length < SECTION0_BYTES + END_MARK.length) return `message ${n + 1} declares ${length} bytes`;
      if (offset + length > size) {
        return `message ${n + 1} declares ${length} bytes from byte ${offset}, the file has ${size - offset}`;
      }
      const tail = Buffer.alloc(END_MARK.length);
      await read(tail, offset + length - END_MARK.length);
      if (!tail.equals(END_MARK)) return `message ${n + 1} does not end with 7777`;
      offset += length;
    }
    return null;
  } finally {
    await handle.close();
  }
}

/** Runs the configured check: null when complete, else the reason. */
export async function verifyDownload(
  mode: VerifyMode,
  partPath: string,
  info: { remotePath: string; size: number },
): Promise<string | null> {
  if (mode === 'none') return null;
  if (mode === 'auto') return bufrIncompleteness(partPath);
  const verdict = await mode(partPath, info);
  if (verdict === true) return null;
  return typeof verdict === 'string' && verdict !== '' ? verdict : 'the verify function said no';
}
