/**
 * Names of the events the daemon emits, in one place, for logs, metrics, the status page and
 * the CLI. The payload types live next to the emitter (src/daemon/events.ts).
 */
export const DAEMON_EVENTS = {
  /** A file was committed under its final name and recorded `downloaded`. */
  downloaded: 'downloaded',
  /** A download attempt failed and will be retried after a backoff. */
  retry: 'retry',
  /** A file exhausted its attempts (or failed permanently) and is parked as `failed`. */
  failed: 'failed',
  /** The user's callback (or exec hook) finished for one file, with or without an error. */
  processed: 'processed',
  /** One poll cycle of one source finished (or failed to list). */
  cycle: 'cycle',
} as const;

export type DaemonEventName = (typeof DAEMON_EVENTS)[keyof typeof DAEMON_EVENTS];

/** Message strings used in the daemon's structured logs (`msg` field), stable for log queries. */
export const LOG_MESSAGES = {
  started: 'daemon started',
  stopping: 'daemon stopping',
  stopped: 'daemon stopped',
  cycle: 'cycle done',
  cycleFailed: 'cycle failed',
  downloaded: 'file downloaded',
  retry: 'download failed, will retry',
  failed: 'download failed, giving up',
  callbackFailed: 'callback failed',
  leaseLost: 'lease lost, download discarded',
  callbacksBehind: 'callbacks are the bottleneck: downloads wait for them',
} as const;
