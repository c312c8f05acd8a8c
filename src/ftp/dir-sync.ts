/**
 * Folder fsyncs shared by the renames of the moment (group commit).
 *
 * A rename is durable once its folder has been fsynced *after* it. One fsync per file in series
 * was most of a loopback mirror's time (docs/PERFORMANCE.md); but one fsync covers every rename
 * done before it starts. So per folder at most one fsync runs and at most one waits: a request
 * that arrives while one runs joins the waiting one, which starts when the running one ends and
 * covers every rename done until then. An fsync waits for one of the process's sync slots
 * (util/sync-slots.ts); until it has one, new requests join it (it has not started yet, so it
 * covers their renames too). A batch also lets a new fsync linger a moment before it starts
 * (`lingerMs`): at one connection a file's rename otherwise always came after the previous
 * fsync had ended, and every file paid a folder fsync (a journal commit) of its own.
 *
 * The folder's descriptor is kept between fsyncs that follow each other (closed once none was
 * asked for FOLDER_IDLE_MS): each `open`, `fsync` and `close` is a round trip through libuv's
 * thread pool, and at one connection every file brought its own three (its rename came after the
 * previous fsync ended). fsync reaches the folder's inode, whenever the descriptor was opened.
 * A folder replaced by another of the same path meanwhile (renamed away, a new one made) would be
 * fsynced in the old one's place; the same holds for an `open` just after the rename, as before.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { fileSyncs, type SyncSlots } from '../util/sync-slots.js';

interface FolderState {
  running: Promise<void> | null;
  /** The running one has begun its fsync: a rename from now on needs the next one. */
  runningStarted: boolean;
  waiting: Promise<void> | null;
  /** The folder's descriptor, kept while fsyncs follow each other. */
  handle: Promise<FileHandle> | null;
  /** Closes `handle` once no fsync was asked for FOLDER_IDLE_MS. */
  idle: NodeJS.Timeout | null;
}

/** A folder's descriptor is closed after this long without an fsync. */
const FOLDER_IDLE_MS = 200;

export class DirSync {
  readonly #folders = new Map<string, FolderState>();
  readonly #slots: SyncSlots;
  #fsyncs = 0;
  #opens = 0;

  constructor(slots: SyncSlots = fileSyncs) {
    this.#slots = slots;
  }

  /** Folder fsyncs actually issued (for tests and benchmarks). */
  get fsyncs(): number {
    return this.#fsyncs;
  }

  /** Folders opened for an fsync (for tests: a descriptor kept serves the next fsyncs). */
  get opens(): number {
    return this.#opens;
  }

  /**
   * Resolves once `dir` has been fsynced after this call (every rename before it is durable).
   * `lingerMs`: when no fsync of `dir` is running or waiting, the new one starts this much later,
   * covering the renames that come meanwhile (see `FOLDER_SYNC_LINGER_MS` in download.ts).
   */
  sync(dir: string, lingerMs = 0): Promise<void> {
    let state = this.#folders.get(dir);
    if (state === undefined) {
      state = { running: null, runningStarted: false, waiting: null, handle: null, idle: null };
      this.#folders.set(dir, state);
    }
    if (state.idle !== null) {
      clearTimeout(state.idle);
      state.idle = null;
    }
    if (state.running === null) return this.#start(dir, state, lingerMs);
    // Still waiting for a slot: it will cover this rename.
    if (!state.runningStarted) return state.running;
    // One already runs but may have started before our rename: wait for the next one.
    state.waiting ??= state.running.then(
      () => this.#start(dir, state),
      () => this.#start(dir, state),
    );
    return state.waiting;
  }

  #start(dir: string, state: FolderState, lingerMs = 0): Promise<void> {
    state.waiting = null;
    state.runningStarted = false;
    const add = (): Promise<void> =>
      this.#slots.add(() => {
        state.runningStarted = true;
        this.#fsyncs++;
        return this.#fsync(dir, state);
      });
    // until it starts, renames join it (runningStarted is false)
    const run = (
      lingerMs > 0 ? new Promise((resolve) => setTimeout(resolve, lingerMs)).then(add) : add()
    ).finally(() => {
      state.running = null;
      if (state.waiting === null) this.#idle(dir, state);
    });
    state.running = run;
    return run;
  }

  /** fsync through the kept descriptor (opened first when there is none). */
  async #fsync(dir: string, state: FolderState): Promise<void> {
    if (state.handle === null) {
      this.#opens++;
      state.handle = open(dir, 'r');
    }
    const handle = state.handle;
    try {
      await (await handle).sync();
    } catch (err) {
      // a failed open or fsync: the next one starts from a fresh descriptor
      if (state.handle === handle) state.handle = null;
      void handle.then((h) => h.close()).catch(() => undefined);
      throw err;
    }
  }

  /** No fsync runs or waits: the descriptor is closed unless another is asked for soon. */
  #idle(dir: string, state: FolderState): void {
    const close = (): void => {
      state.idle = null;
      if (state.running !== null || state.waiting !== null) return;
      this.#folders.delete(dir);
      const handle = state.handle;
      state.handle = null;
      void handle?.then((h) => h.close()).catch(() => undefined);
    };
    if (state.handle === null) close();
    else {
      state.idle = setTimeout(close, FOLDER_IDLE_MS);
      // a kept descriptor never holds the process open
      state.idle.unref();
    }
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
