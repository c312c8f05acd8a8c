/**
 * Cancellation helpers for a process that runs for months: linked controllers that unhook from
 * their parents, waits that end on abort, abortable sleeps.
 */

/**
 * A controller aborted when any parent aborts; `dispose()` unhooks it. (Not AbortSignal.any: its
 * followers live as long as the long-lived parent on Node 20, and the daemon runs for months.)
 */
export function linkedController(parents: readonly AbortSignal[]): {
  signal: AbortSignal;
  controller: AbortController;
  dispose(): void;
} {
  const controller = new AbortController();
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

/** Resolves after `ms`, or early when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
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

export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
