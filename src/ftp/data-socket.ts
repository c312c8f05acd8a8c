/**
 * Plain (not TLS) data connections that can read straight into a download's own memory.
 *
 * A Node socket reads at most 64 KiB at a time into a freshly allocated buffer: on loopback a
 * 116 MB mirror is ~1,900 reads, as many allocations, page faults and garbage to collect (a
 * fifth of the main thread's busy time in a profile, issue 15). A socket made here reads into
 * whatever its current `ReadTarget` offers (a FileSink's reusable 1 MB block), so one read takes
 * all the kernel holds. Without a target (listings, a transfer not yet started) it behaves as
 * any socket: fresh 64 KiB buffers, `data` events.
 */
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';

/** Where a data socket's reads land while a transfer claims it (see FileSink). */
export interface ReadTarget {
  /** The memory the next read may fill (at least one byte). */
  readBuffer(): Buffer;
  /** `n` bytes were read into the last `readBuffer`. False: stop reading until `resumeReading`. */
  didRead(n: number): boolean;
  /** Bytes that arrived before the target took over (read into a buffer of the socket's own). */
  push(chunk: Buffer): boolean;
}

/** Node's own read size for sockets. */
const STREAM_READ_BYTES = 64 * 1024;

const targets = new WeakMap<Socket, ReadTarget>();
const direct = new WeakSet<Socket>();

/** A plain TCP socket (not yet connected) whose reads a transfer can claim with `readInto`. */
export function newDataSocket(): Socket {
  // the target whose memory the pending read uses, if any (it is chosen before the read)
  let owner: ReadTarget | undefined;
  const onread: OnReadOpts = {
    buffer: () => {
      owner = targets.get(socket);
      return owner?.readBuffer() ?? Buffer.allocUnsafe(STREAM_READ_BYTES);
    },
    callback: (n, buf) => {
      if (owner !== undefined) return owner.didRead(n);
      const chunk = Buffer.from(buf.buffer, buf.byteOffset, n);
      const target = targets.get(socket);
      return target === undefined ? socket.push(chunk) : target.push(chunk);
    },
  };
  // Node's constructor takes `onread` (its types list it for connect() only)
  const socket: Socket = new Socket({ onread } as SocketConstructorOpts);
  direct.add(socket);
  return socket;
}

/**
 * Hands every byte `socket` receives from now on to `target`, in order; bytes already buffered in
 * the socket go first. False when the socket was not made by `newDataSocket` (use its `data`
 * events). The socket's `end` event still says when the data is complete.
 */
export function readInto(socket: Socket, target: ReadTarget): boolean {
  if (!direct.has(socket)) return false;
  let stopped = false;
  for (let chunk: unknown; (chunk = socket.read()) !== null;)
    stopped = !target.push(chunk as Buffer) || stopped;
  targets.set(socket, target);
  // reading stopped while nobody consumed the socket's buffer: start it again
  if (!stopped) resumeReading(socket);
  return true;
}

/** Starts reading again after a target's `didRead`/`push` returned false. */
export function resumeReading(socket: Socket): void {
  if (!direct.has(socket)) {
    socket.resume();
    return;
  }
  // With `onread`, Node stops the handle when the callback returns false and only its `_read`
  // starts it again (`resume()` does not: the stream never leaves its reading state).
  if (!socket.destroyed && !socket.connecting) (socket as unknown as { _read(n: number): void })._read(0);
}
