/**
 * Subscribes handlers to a daemon's events and returns the one call that unsubscribes them all,
 * so the metrics and the status page's tracker can never leave a listener behind.
 */
import type { EventEmitter } from 'node:events';
import type { DaemonEvents } from '../daemon/daemon.js';

export type DaemonHandlers = {
  [K in keyof DaemonEvents]?: (...args: DaemonEvents[K]) => void;
};

export function subscribe(daemon: EventEmitter<DaemonEvents>, handlers: DaemonHandlers): () => void {
  const added: [keyof DaemonEvents, (...args: never[]) => void][] = [];
  for (const name of Object.keys(handlers) as (keyof DaemonEvents)[]) {
    const handler = handlers[name] as ((...args: never[]) => void) | undefined;
    if (handler === undefined) continue;
    (daemon.on as (event: string, listener: (...args: never[]) => void) => unknown)(name, handler);
    added.push([name, handler]);
  }
  return () => {
    for (const [name, handler] of added) {
      (daemon.off as (event: string, listener: (...args: never[]) => void) => unknown)(name, handler);
    }
  };
}
