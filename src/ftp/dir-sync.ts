/**
 * Folder fsyncs shared by the renames of the moment (group commit).
 *
 * A rename is durable once its folder has been fsynced *after* it. One fsync per file in series
 * was most of a loopback mirror's time (docs/PERFORMANCE.md); but one fsync covers every rename
 * done before it starts. So per folder at most one fsync runs and at most one waits: a request
 * that arrives while one runs joins the waiting one, which starts when the running one ends and
 * covers every rename done until then. An fsync waits for one of the process's sync slots
 * (util/sync-slots.ts); until it has one, new requests join it (it has not started yet, so it
 * covers their renames too).
 */
import { open } from 'node:fs/promises';
import { fileSyncs, type SyncSlots } from '../util/sync-slots.js';

interface FolderState {
  running: Promise<void> | null;
  /** The running one has begun its fsync: a rename from now on needs the next one. */
  runningStarted: boolean;
  waiting: Promise<void> | null;
}

export class DirSync {
  readonly #folders = new Map<string, FolderState>();
  readonly #slots: SyncSlots;
  #fsyncs = 0;

  constructor(slots: SyncSlots = fileSyncs) {
    this.#slots = slots;
  }

  /** Folder fsyncs actually issued (for tests and benchmarks). */
  get fsyncs(): number {
    return this.#fsyncs;
  }

  /** Resolves once `dir` has been fsynced after this call (every rename before it is durable). */
  sync(dir: string): Promise<void> {
    let state = this.#folders.get(dir);
    if (state === undefined) {
      state = { running: null, runningStarted: false, waiting: null };
      this.#folders.set(dir, state);
    }
    if (state.running === null) return this.#start(dir, state);
    // Still waiting for a slot: it will cover this rename.
    if (!state.runningStarted) return state.running;
    // One already runs but may have started before our rename: wait for the next one.
    state.waiting ??= state.running.then(
      () => this.#start(dir, state),
      () => this.#start(dir, state),
    );
    return state.waiting;
  }

  #start(dir: string, state: FolderState): Promise<void> {
    state.waiting = null;
    state.runningStarted = false;
    const run = this.#slots
      .add(() => {
        state.runningStarted = true;
        this.#fsyncs++;
        return syncPath(dir, 'all');
      })
      .finally(() => {
        state.running = null;
        if (state.waiting === null) this.#folders.delete(dir);
      });
    state.running = run;
    return run;
  }
}

/**
 * Flushes `path` to disk through a descriptor of its own (fsync reaches the inode, whichever
 * descriptor wrote it). `data`: fdatasync, the bytes and the size only (enough for a file whose
 * mtime nobody reads back); `all`: fsync, as a folder needs for its entries. Runs on libuv's
 * thread pool.
 */
export async function syncPath(path: string, what: 'data' | 'all'): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await (what === 'data' ? handle.datasync() : handle.sync());
  } finally {
    await handle.close();
  }
}

/** The process-wide instance: renames from every client into one folder share its fsyncs. */
export const defaultDirSync = new DirSync();
