/**
 * Plain (not TLS) data connections that can read straight into a download's own memory.
 *
 * A Node socket reads at most 64 KiB at a time into a freshly allocated buffer: on loopback a
 * 116 MB mirror is ~1,900 reads, as many allocations, page faults and garbage to collect (a
 * fifth of the main thread's busy time in a profile, issue 15). A socket made here reads into
 * whatever its current `ReadTarget` offers (a FileSink's reusable 1 MB block), so one read takes
 * all the kernel holds. Without a target (listings, a transfer not yet started) it behaves as
 * any socket (`data` events), its reads copied out of one process-wide scratch buffer.
 *
 * Node picks the buffer for a socket's next read right after the previous one, and the first at
 * connect: before a transfer can claim the socket (at the 150 reply). A fresh 64 KiB buffer
 * there cost an allocation per data connection (≈ 300 per mirror, kept alive by the view the
 * sink holds until its write) and took the transfer's first bytes; the scratch buffer is copied
 * into the claiming target instead, so every byte of a transfer lands in the sink's blocks.
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
/**
 * Where reads land while no target claims the socket. One for all sockets: libuv fills it and
 * calls the read callback synchronously, which copies the bytes out before any other read.
 */
const scratch = Buffer.allocUnsafeSlow(STREAM_READ_BYTES);

const targets = new WeakMap<Socket, ReadTarget>();
const direct = new WeakSet<Socket>();

/** A plain TCP socket (not yet connected) whose reads a transfer can claim with `readInto`. */
export function newDataSocket(): Socket {
  // the target whose memory the pending read uses, if any (it is chosen before the read)
  let owner: ReadTarget | undefined;
  const onread: OnReadOpts = {
    buffer: () => {
      owner = targets.get(socket);
      return owner?.readBuffer() ?? scratch;
    },
    callback: (n) => {
      if (owner !== undefined) return owner.didRead(n);
      // the read went into `scratch`, which serves the next read of any socket: copy it now
      const target = targets.get(socket);
      return target === undefined
        ? socket.push(Buffer.from(scratch.subarray(0, n)))
        : copyInto(target, scratch, n);
    },
  };
  // Node's constructor takes `onread` (its types list it for connect() only)
  const socket: Socket = new Socket({ onread } as SocketConstructorOpts);
  direct.add(socket);
  return socket;
}

/** Copies the first `n` bytes of `src` into `target`'s memory. False: the target asked to stop. */
function copyInto(target: ReadTarget, src: Buffer, n: number): boolean {
  let more = true;
  for (let done = 0; done < n;) {
    const copied = src.copy(target.readBuffer(), 0, done, n);
    done += copied;
    more = target.didRead(copied) && more;
  }
  return more;
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
