/**
 * A bound on the fsyncs (of files and folders) that run at once in this process.
 *
 * Every file-system call of Node runs on libuv's thread pool (4 threads unless
 * UV_THREADPOOL_SIZE says otherwise). An fsync holds its thread for milliseconds; a batch that
 * lets up to 16 finished files wait for theirs could take every thread, and the running
 * transfers' `open` and `write` then queued behind them: the disk's durability work set the pace
 * of the network (issue 15: a loopback mirror at 1 connection was ~25 % faster with the fsyncs
 * removed or with 16 threads). With half the threads for fsyncs, a transfer always finds one.
 * Waiting here also makes a folder fsync start later, so it covers more renames (DirSync).
 * The slots are a p-queue (first come, first served; `add` runs a sync once a slot is free).
 */
import PQueue from 'p-queue';

export type SyncSlots = PQueue;

/** At most `slots` (at least 1) syncs at once. */
export function syncSlots(slots: number): SyncSlots {
  return new PQueue({ concurrency: Math.max(1, Math.floor(slots)) });
}

/** Half of libuv's thread pool (at least 1): the process-wide bound. */
function defaultSlots(): number {
  const threads = Number(process.env['UV_THREADPOOL_SIZE'] ?? '');
  return Math.max(1, Math.floor((Number.isInteger(threads) && threads > 0 ? threads : 4) / 2));
}

/** Shared by every download of the process, whichever client started it. */
export const fileSyncs = syncSlots(defaultSlots());
