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
