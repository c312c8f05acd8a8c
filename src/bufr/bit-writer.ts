/**
 * The writing twin of `BitReader`: MSB-first bits into a growable buffer. Used by the encoder
 * and by tests that build messages with particular descriptors.
 */

export class BitWriter {
  private buf: Uint8Array;
  /** Bits written so far. */
  pos = 0;

  constructor(initialBytes = 1024) {
    this.buf = new Uint8Array(Math.max(16, initialBytes));
  }

  private ensure(extraBits: number): void {
    const needBytes = Math.ceil((this.pos + extraBits) / 8) + 1;
    if (needBytes <= this.buf.length) return;
    const next = new Uint8Array(Math.max(needBytes, this.buf.length * 2));
    next.set(this.buf);
    this.buf = next;
  }

  /** Writes `value` (an integer 0 <= value < 2^nbits, nbits <= 53) in `nbits` bits. */
  writeUint(nbits: number, value: number): void {
    if (!Number.isInteger(value) || value < 0 || (nbits < 53 && value >= 2 ** nbits)) {
      throw new RangeError(`value ${value} does not fit in ${nbits} bits`);
    }
    this.ensure(nbits);
    let left = nbits;
    while (left > 0) {
      const bitInByte = this.pos & 7;
      const room = 8 - bitInByte;
      const take = left < room ? left : room;
      // The top `take` of the remaining `left` bits.
      const chunk = Math.floor(value / 2 ** (left - take)) % 2 ** take;
      const idx = this.pos >>> 3;
      this.buf[idx] = (this.buf[idx] as number) | (chunk << (room - take));
      this.pos += take;
      left -= take;
    }
  }

  /** Writes whole bytes at the current (possibly unaligned) position, shifting in one loop. */
  writeBytes(bytes: Uint8Array): void {
    this.ensure(bytes.length * 8);
    const shift = this.pos & 7;
    const start = this.pos >>> 3;
    const buf = this.buf;
    if (shift === 0) {
      buf.set(bytes, start);
    } else {
      const back = 8 - shift;
      for (let i = 0; i < bytes.length; i++) {
        const b = bytes[i] as number;
        buf[start + i] = (buf[start + i] as number) | (b >>> shift);
        buf[start + i + 1] = (b << back) & 0xff;
      }
    }
    this.pos += bytes.length * 8;
  }

  /** Writes `nchars` latin1 characters, padding `text` with NUL bytes. */
  writeText(nchars: number, text: string): void {
    const bytes = new Uint8Array(nchars);
    for (let i = 0; i < nchars && i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
    this.writeBytes(bytes);
  }

  /** The bytes written, zero-padded to `minBytes` when given. */
  finish(minBytes = 0): Uint8Array {
    const n = Math.max(Math.ceil(this.pos / 8), minBytes);
    const out = new Uint8Array(n);
    out.set(this.buf.subarray(0, Math.min(n, this.buf.length)));
    return out;
  }
}
