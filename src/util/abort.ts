/**
 * Cancellation helpers, for the FTP/SFTP layer and for a daemon that runs for months: one place
 * for checks, abortable work, linked controllers that unhook from their parents, and the two
 * kinds of sleep.
 *
 * The two sleeps differ on purpose. `sleep` is part of an operation: an abort fails it with
 * `AbortedError`, like any other step. `sleepUntilAborted` is a pause between operations (a poll
 * interval, a backoff): an abort just ends the pause early, and the caller sees the signal.
 */
import { setMaxListeners } from 'node:events';
import { AbortedError } from '../errors.js';

/** Throws `AbortedError` (cause: the signal's reason) when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted === true) throw new AbortedError(what, { cause: signal.reason });
}

/**
 * Runs `onAbort` when `signal` fires while `work` is pending, and removes the listener after.
 * `onAbort` must make `work` settle (for FTP: close the connection, which rejects the task).
 */
export async function onAbortDuring<T>(
  signal: AbortSignal | undefined,
  work: () => Promise<T>,
  onAbort: () => void,
): Promise<T> {
  if (signal === undefined) return work();
  const listener = (): void => onAbort();
  signal.addEventListener('abort', listener, { once: true });
  try {
    return await work();
  } finally {
    signal.removeEventListener('abort', listener);
  }
}

/** A promise that resolves after `ms`, or rejects with `AbortedError` when `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(new AbortedError('sleep', { cause: signal.reason }));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortedError('sleep', { cause: signal?.reason }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves after `ms`, or early when `signal` aborts; never rejects. */
export function sleepUntilAborted(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * A controller whose signal many operations wait on at once, each removing its listener when done
 * (a listing round's folders and transfers, the daemon's fetches until their files are recorded).
 * Node warns of a "possible memory leak" at the 11th listener of a signal; here that many is the
 * normal case (a tree of more than ten folders, a catch-up with the fdatasyncs behind), so the
 * warning is turned off for this signal only.
 */
export function sharedController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

/**
 * A controller aborted when any parent aborts; `dispose()` unhooks it. (Not AbortSignal.any: its
 * followers live as long as the long-lived parent on Node 20, and the daemon runs for months.)
 * Its signal is shared (see sharedController).
 */
export function linkedController(parents: readonly AbortSignal[]): {
  signal: AbortSignal;
  controller: AbortController;
  dispose(): void;
} {
  const controller = sharedController();
  const hooks: [AbortSignal, () => void][] = [];
  for (const parent of parents) {
    if (parent.aborted) {
      controller.abort(parent.reason);
      break;
    }
    const onAbort = (): void => controller.abort(parent.reason);
    parent.addEventListener('abort', onAbort, { once: true });
    hooks.push([parent, onAbort]);
  }
  return {
    signal: controller.signal,
    controller,
    dispose: () => {
      for (const [parent, onAbort] of hooks) parent.removeEventListener('abort', onAbort);
    },
  };
}

/** Waits for `promise` (its rejection ignored) or for `signal` to abort, whichever is first. */
export async function untilAborted(promise: Promise<unknown>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  let onAbort = (): void => undefined;
  const aborted = new Promise<void>((resolve) => {
    onAbort = () => resolve();
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([promise.catch(() => undefined), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
